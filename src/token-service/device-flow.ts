import { DEVICE_CODE_GRANT, type DeviceAuthorizationResponse } from './contract.js';
import type { TokenServiceCore } from './core.js';
import { OAuthError } from './oauth-error.js';
import type { ClientCredentials, OAuthParams } from './params.js';
import { allowedScopes, grantScopes, parseScope } from './scopes.js';
import { requireRealm } from './token-endpoint.js';

/** The page where a person enters the user code. */
export const DEVICE_VERIFICATION_PATH = '/oauth2/device';

/** RFC 8628 §3.1–3.2: a device asks for a device code and a user code. */
export async function startDeviceAuthorization(
  core: TokenServiceCore,
  params: OAuthParams,
  credentials: ClientCredentials | undefined,
  source: string,
): Promise<DeviceAuthorizationResponse> {
  if (!credentials)
    throw new OAuthError('invalid_client', 'client authentication is required (Basic or client_id)');
  const client = await core.clients.authenticate(credentials, source);
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT)) {
    throw new OAuthError('unauthorized_client', `client ${client.clientId} may not use the device flow`);
  }
  requireRealm(client, 'employees');
  const scopes = grantScopes(
    parseScope(params.scope),
    allowedScopes(core.config.employeeScopes, client.scopes),
    core.config.defaultScopes,
  );
  const { deviceCode, userCode } = await core.devices.create(client.clientId, scopes);
  const verificationUri = `${core.issuer}${DEVICE_VERIFICATION_PATH}`;
  return {
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: verificationUri,
    verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(userCode)}`,
    expires_in: core.config.deviceCodeLifetimeSeconds,
    interval: core.config.devicePollIntervalSeconds,
  };
}

/** The person's decision on the verification page; false when the code is not pending (any more). */
export async function decideDevice(
  core: TokenServiceCore,
  userCode: string,
  uid: string,
  approve: boolean,
): Promise<boolean> {
  const pending = await core.devices.findPending(userCode);
  if (!pending) return false;
  const decided = await core.devices.decide(userCode, { approve, uid });
  await core.audit({
    action: approve ? 'device.approve' : 'device.deny',
    actor: { uid, realm: 'employees' },
    target: { type: 'oauth-client', id: pending.clientId },
    outcome: decided ? 'success' : 'failure',
    details: { scope: pending.scopes.join(' ') },
  });
  return decided;
}
