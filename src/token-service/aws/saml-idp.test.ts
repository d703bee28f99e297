import { CreateRoleCommand, CreateSAMLProviderCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { assumeRole } from '../../mai/aws/assume-role.js';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import {
  MOTO_ACCOUNT,
  MOTO_REGION,
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../../senza/test-support/moto.js';
import { TeamStore, teamMigrations } from '../../teams/index.js';
import {
  createFixture,
  EMPLOYEE,
  passwordToken,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from '../test-support.js';
import { AWS_SAML_ATTRIBUTES } from './saml.js';

const OWN_ACCOUNT = MOTO_ACCOUNT; // jdoe's team's account; moto's default account, so IAM and STS agree
const OTHER_ACCOUNT = '210987654321';
const PROD_ACCOUNT = '444444444444';
/** Stands in for https://signin.aws.amazon.com/saml: the node-saml SP's assertion consumer URL. */
const ACS = 'https://sp.example.test/saml/acs';
const AUDIENCE = 'urn:amazon:webservices';

interface SamlAnswer {
  saml_response: string;
  role_arn: string;
  principal_arn: string;
  expires: string;
}

/** Issue 19: the token service as SAML 2.0 identity provider of AWS, checked by an independent SP. */
describeEachDatabase(
  'token service as AWS SAML identity provider',
  [...TOKEN_SERVICE_TEST_MIGRATIONS, { component: 'teams', migrations: teamMigrations }],
  (getDatabase) => {
    let f: TokenServiceFixture;
    let jdoeToken: string;
    const issuer = () => f.ctx.urls['token-service'];
    const roleArn = (account: string, role: string) => `arn:aws:iam::${account}:role/${role}`;

    beforeAll(async () => {
      const teams = new TeamStore(getDatabase());
      await teams.putTeam('team-a', {
        name: 'Team A',
        members: [EMPLOYEE.uid],
        aws_accounts: [OWN_ACCOUNT, PROD_ACCOUNT],
      });
      await teams.putTeam('team-b', { name: 'Team B', members: ['other'], aws_accounts: [OTHER_ACCOUNT] });
      f = await createFixture(
        getDatabase(),
        {
          aws: {
            roleMapping: [{ who: 'members', role: 'PowerUser', accounts: 'team' }],
            samlProviderName: 'stups',
            saml: { destination: ACS, reasonRequiredAccounts: [PROD_ACCOUNT] },
          },
        },
        { awsAccounts: teams },
      );
      jdoeToken = (await passwordToken(f.app)).access_token;
    });
    afterAll(async () => {
      await f?.close();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    const assertion = (body: unknown, token?: string) =>
      f.app.inject({
        method: 'POST',
        url: '/aws/saml-assertion',
        headers: token ? { authorization: `Bearer ${token}` } : {},
        payload: body as Record<string, unknown>,
      });
    const events = () =>
      f.ctx.auditLog.query({
        service: 'token-service',
        action: 'token-service.aws.saml_assertion',
        limit: 100,
      });
    const metadata = async () => {
      const answer = await f.app.inject({ url: '/saml/metadata' });
      expect(answer.statusCode).toBe(200);
      return answer;
    };
    /** Certificates (base64 DER) of the metadata, as an SP would take them. */
    const metadataCerts = async () =>
      [...(await metadata()).body.matchAll(/<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/g)].map(
        (m) => m[1]!,
      );
    const sp = async (options: Partial<ConstructorParameters<typeof SAML>[0]> = {}) =>
      new SAML({
        idpCert: await metadataCerts(),
        issuer: AUDIENCE,
        audience: AUDIENCE,
        callbackUrl: ACS,
        entryPoint: `${issuer()}/saml/sso`,
        idpIssuer: `${issuer()}/saml`,
        wantAssertionsSigned: true,
        wantAuthnResponseSigned: true,
        validateInResponseTo: ValidateInResponseTo.never,
        acceptedClockSkewMs: 0,
        ...options,
      });
    const issue = async (role = roleArn(OWN_ACCOUNT, 'PowerUser')) => {
      const answer = await assertion({ role_arn: role }, jdoeToken);
      expect(answer.statusCode).toBe(200);
      return answer.json<SamlAnswer>();
    };
    const xmlOf = (answer: SamlAnswer) => Buffer.from(answer.saml_response, 'base64').toString('utf8');

    describe('metadata', () => {
      it('publishes an IDPSSODescriptor with a signing certificate, both SSO bindings and NameID formats', async () => {
        const answer = await metadata();
        expect(answer.headers['content-type']).toMatch(/^application\/samlmetadata\+xml/);
        const xml = answer.body;
        expect(xml).toContain(`entityID="${issuer()}/saml"`);
        expect(xml).toMatch(
          /<md:IDPSSODescriptor[^>]*protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/,
        );
        expect(xml).toMatch(/<md:KeyDescriptor use="signing">/);
        expect(await metadataCerts()).not.toHaveLength(0);
        for (const binding of ['HTTP-Redirect', 'HTTP-POST'])
          expect(xml).toContain(
            `Binding="urn:oasis:names:tc:SAML:2.0:bindings:${binding}" Location="${issuer()}/saml/sso"`,
          );
        expect(xml).toContain('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
      });

      it('publishes the same certificate on every call (stored, not made per request)', async () => {
        expect(await metadataCerts()).toEqual(await metadataCerts());
      });

      it('names the assertion endpoint and the metadata in the discovery document', async () => {
        const discovery = (await f.app.inject({ url: '/.well-known/openid-configuration' })).json();
        expect(discovery.aws_saml_assertion_endpoint).toBe(`${issuer()}/aws/saml-assertion`);
        expect(discovery.saml_metadata_uri).toBe(`${issuer()}/saml/metadata`);
      });
    });

    describe('POST /aws/saml-assertion, validated by node-saml as SP', () => {
      it('issues a response the SP accepts with the metadata certificate: subject, role and session attributes', async () => {
        const answer = await issue();
        expect(answer.role_arn).toBe(roleArn(OWN_ACCOUNT, 'PowerUser'));
        expect(answer.principal_arn).toBe(`arn:aws:iam::${OWN_ACCOUNT}:saml-provider/stups`);
        const { profile } = await (
          await sp()
        ).validatePostResponseAsync({ SAMLResponse: answer.saml_response });
        expect(profile?.nameID).toBe(EMPLOYEE.uid);
        expect(profile?.issuer).toBe(`${issuer()}/saml`);
        expect(profile?.[AWS_SAML_ATTRIBUTES.role]).toBe(`${answer.role_arn},${answer.principal_arn}`);
        expect(profile?.[AWS_SAML_ATTRIBUTES.roleSessionName]).toBe(EMPLOYEE.uid);
        expect(profile?.[AWS_SAML_ATTRIBUTES.sessionDuration]).toBe('3600');
        const xml = xmlOf(answer);
        expect(xml).toContain(`Destination="${ACS}"`);
        expect(xml).toMatch(new RegExp(`<saml:SubjectConfirmationData [^>]*Recipient="${ACS}"`));
        expect(xml).toContain('Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"');
        expect(xml).toContain('Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"');
        // Two signatures: the Response's and the Assertion's.
        expect(xml.match(/<ds:Signature /g)).toHaveLength(2);
        const notOnOrAfter = /<saml:Conditions [^>]*NotOnOrAfter="([^"]+)"/.exec(xml)![1]!;
        expect(new Date(notOnOrAfter).toISOString()).toBe(answer.expires);
      });

      it('is rejected by an SP expecting another audience', async () => {
        const answer = await issue();
        await expect(
          (await sp({ audience: 'urn:example:other-sp' })).validatePostResponseAsync({
            SAMLResponse: answer.saml_response,
          }),
        ).rejects.toThrow(/audience/i);
      });

      it('is rejected once NotOnOrAfter has passed', async () => {
        const answer = await issue();
        const validator = await sp();
        vi.useFakeTimers({ now: new Date(answer.expires).getTime() + 1000, toFake: ['Date'] });
        await expect(
          validator.validatePostResponseAsync({ SAMLResponse: answer.saml_response }),
        ).rejects.toThrow(/expired|NotOnOrAfter/i);
      });

      it('is rejected when tampered with (another session name) or checked against a foreign certificate', async () => {
        const answer = await issue();
        const tampered = xmlOf(answer).replace(
          `<saml:AttributeValue>${EMPLOYEE.uid}</saml:AttributeValue>`,
          '<saml:AttributeValue>admin</saml:AttributeValue>',
        );
        expect(tampered).not.toBe(xmlOf(answer));
        await expect(
          (await sp()).validatePostResponseAsync({ SAMLResponse: Buffer.from(tampered).toString('base64') }),
        ).rejects.toThrow(/signature/i);
        const { default: selfsigned } = await import('selfsigned');
        const foreign = (
          await selfsigned.generate([{ name: 'commonName', value: 'foreign' }], { keySize: 2048 })
        ).cert;
        await expect(
          (await sp({ idpCert: foreign })).validatePostResponseAsync({ SAMLResponse: answer.saml_response }),
        ).rejects.toThrow(/signature/i);
      });

      it('audits the assertion (account, role, assertion id) without the assertion', async () => {
        const answer = await issue();
        const [event] = await events();
        expect(event).toMatchObject({ outcome: 'success', actor: EMPLOYEE.uid });
        const assertionId = /<saml:Assertion [^>]*ID="([^"]+)"/.exec(xmlOf(answer))![1]!;
        expect(JSON.stringify(event)).toContain(assertionId);
        expect(JSON.stringify(event)).toContain(OWN_ACCOUNT);
        expect(JSON.stringify(event)).not.toContain(answer.saml_response.slice(0, 80));
      });

      it('refuses a role of another team’s account with 403 problem+json, audited as refused', async () => {
        const before = (await events()).length;
        const refused = await assertion({ role_arn: roleArn(OTHER_ACCOUNT, 'PowerUser') }, jdoeToken);
        expect(refused.statusCode).toBe(403);
        expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(refused.body).not.toContain('saml_response');
        const after = await events();
        expect(after.length).toBe(before + 1);
        expect(after[0]).toMatchObject({ outcome: 'refused' });
      });

      it('answers 401 without a token and 400 for bad bodies, problem+json', async () => {
        expect((await assertion({ role_arn: roleArn(OWN_ACCOUNT, 'PowerUser') })).statusCode).toBe(401);
        for (const body of [
          {},
          { role_arn: 'nope' },
          { role_arn: roleArn(OWN_ACCOUNT, 'PowerUser'), x: 1 },
        ]) {
          const answer = await assertion(body, jdoeToken);
          expect(answer.statusCode).toBe(400);
          expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
        }
      });

      it('requires a reason for a listed production account and audits it', async () => {
        const arn = roleArn(PROD_ACCOUNT, 'PowerUser');
        const missing = await assertion({ role_arn: arn }, jdoeToken);
        expect(missing.statusCode).toBe(400);
        expect(missing.json().detail ?? missing.body).toMatch(/reason/);
        const given = await assertion({ role_arn: arn, reason: 'INC-42 <restart> & check' }, jdoeToken);
        expect(given.statusCode).toBe(200);
        const [event] = await events();
        expect(event).toMatchObject({ outcome: 'success' });
        expect(JSON.stringify(event)).toContain('INC-42 <restart> & check');
      });

      it('XML-escapes values: the response stays well-formed and verifiable', async () => {
        // The reason is not in the assertion; the uid and ARNs are. A role name with '+=,.@-' is legal IAM.
        const answer = await issue();
        expect(xmlOf(answer)).not.toMatch(/&(?!amp;|lt;|gt;|quot;|apos;|#)/);
        await expect(
          (await sp()).validatePostResponseAsync({ SAMLResponse: answer.saml_response }),
        ).resolves.toBeDefined();
      });
    });

    /*
     * moto_server does NOT verify the SAML signature (nor audience, destination, expiry): it parses the
     * assertion for RoleSessionName and SessionDuration. The signature and conditions are verified by
     * node-saml above; here the path through IAM/STS and Mai's assumeRole is real.
     */
    describe.skipIf(skipWithoutMoto())('end to end with moto_server STS', () => {
      let moto: RunningMoto;
      let arn: string;
      let providerArn: string;
      beforeAll(async () => {
        moto = await startMoto();
        const iam = new IAMClient(motoClientConfig(moto.endpoint));
        const provider = await iam.send(
          new CreateSAMLProviderCommand({ Name: 'stups', SAMLMetadataDocument: (await metadata()).body }),
        );
        providerArn = provider.SAMLProviderArn!;
        arn = (
          await iam.send(
            new CreateRoleCommand({
              RoleName: 'PowerUser',
              AssumeRolePolicyDocument: JSON.stringify({
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Principal: { Federated: providerArn },
                    Action: 'sts:AssumeRoleWithSAML',
                    Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
                  },
                ],
              }),
            }),
          )
        ).Role!.Arn!;
        iam.destroy();
      }, 60_000);
      afterAll(async () => {
        await moto?.stop();
      });

      it('turns the SAML response into credentials of the role; GetCallerIdentity names the uid', async () => {
        const answer = await issue(roleArn(OWN_ACCOUNT, 'PowerUser'));
        expect(answer.role_arn).toBe(arn);
        expect(answer.principal_arn).toBe(providerArn);
        const credentials = await assumeRole(
          { region: MOTO_REGION, endpoint: moto.endpoint },
          {
            kind: 'saml',
            samlResponse: answer.saml_response,
            roleArn: arn,
            providerArn: answer.principal_arn,
          },
        );
        const sts = new STSClient({
          region: MOTO_REGION,
          endpoint: moto.endpoint,
          credentials,
        });
        const identity = await sts.send(new GetCallerIdentityCommand({}));
        sts.destroy();
        expect(identity.Arn).toBe(`arn:aws:sts::${OWN_ACCOUNT}:assumed-role/PowerUser/${EMPLOYEE.uid}`);
      });
    });

    /* Last: it moves the clock a week on (keys rotate), which expires the other tests' tokens. */
    describe('key rotation', () => {
      it('publishes a successor certificate before it signs, and keeps the old one while it may still verify', async () => {
        const [first] = await metadataCerts();
        f.clock.advance(8 * 24 * 3600);
        jdoeToken = (await passwordToken(f.app)).access_token; // rotates: the successor is pre-published
        const during = await metadataCerts();
        expect(during).toHaveLength(2);
        expect(during).toContain(first);
        const successor = during.find((c) => c !== first)!;
        const validateAt = async (idpCert: string, answer: SamlAnswer) => {
          vi.useFakeTimers({ now: f.clock.now(), toFake: ['Date'] });
          try {
            return await (
              await sp({ idpCert })
            ).validatePostResponseAsync({ SAMLResponse: answer.saml_response });
          } finally {
            vi.useRealTimers();
          }
        };
        // Still signed by the old key while the successor is only published.
        const before = await issue();
        await expect(validateAt(first!, before)).resolves.toBeDefined();
        f.clock.advance(3600);
        const after = await issue();
        await expect(validateAt(successor, after)).resolves.toBeDefined();
        await expect(validateAt(first!, after)).rejects.toThrow(/signature/i);
        expect(await metadataCerts()).toContain(first);
      });
    });
  },
);
