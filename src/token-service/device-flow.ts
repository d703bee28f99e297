import { DEVICE_CODE_GRANT, type DeviceAuthorizationResponse } from './contract.js';
import type { TokenServiceCore } from './core.js';
import { OAuthError } from './oauth-error.js';
import type { ClientCredentials, OAuthParams } from './params.js';
import { allowedScopes, grantScopes, parseScope } from './scopes.js';
import { type RequestMeta, requireRealm } from './token-endpoint.js';

/** The page where a person enters the user code. */
export const DEVICE_VERIFICATION_PATH = '/oauth2/device';

/** RFC 8628 §3.1–3.2: a device asks for a device code and a user code. */
export async function startDeviceAuthorization(
  core: TokenServiceCore,
  params: OAuthParams,
  credentials: ClientCredentials | undefined,
  meta: RequestMeta,
): Promise<DeviceAuthorizationResponse> {
  if (!credentials)
    throw new OAuthError('invalid_client', 'client authentication is required (Basic or client_id)');
  const client = await core.clients.authenticate(credentials, meta.source);
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT)) {
    throw new OAuthError('unauthorized_client', `client ${client.clientId} may not use the device flow`);
  }
  requireRealm(client, 'employees');
  const scopes = grantScopes(
    parseScope(params.scope),
    allowedScopes(core.config.employeeScopes, client.scopes),
    core.config.defaultScopes,
    core.config.unallowedScopes,
  );
  const { deviceCode, userCode } = await core.db.transaction().execute(async (trx) => {
    const created = await core.devices.create(client.clientId, scopes, trx);
    await core.audit(trx, {
      event: 'token-service.device_code.issue',
      actor: { uid: client.clientId },
      targetId: client.clientId,
      details: { client_id: client.clientId, scope: scopes.join(' ') },
      requestId: meta.requestId,
    });
    return created;
  });
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
  requestId: string,
  /** How the person proved who they are: the password on the page, or their sign-in session. */
  via: 'password' | 'session' = 'password',
): Promise<boolean> {
  const pending = await core.devices.findPending(userCode);
  if (!pending) return false;
  const entry = {
    event: approve ? 'token-service.device_code.approve' : 'token-service.device_code.deny',
    actor: { uid, realm: 'employees' },
    targetId: pending.clientId,
    details: { client_id: pending.clientId, scope: pending.scopes.join(' '), via },
    requestId,
  } as const;
  const decided = await core.db.transaction().execute(async (trx) => {
    if (!(await core.devices.decide(userCode, { approve, uid }, trx))) return false;
    await core.audit(trx, entry);
    return true;
  });
  // Decided elsewhere (or expired) between reading and deciding: nothing changed here.
  if (!decided)
    await core.audit.standalone({
      ...entry,
      outcome: 'failure',
      details: { ...entry.details, reason: 'no longer pending' },
    });
  return decided;
}
