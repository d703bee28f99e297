import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateRoleCommand, CreateSAMLProviderCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-provider-ini';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import selfsigned from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo, type CapturedIo } from '../../platform/test-support/cli-io.js';
import {
  MOTO_ACCOUNT,
  MOTO_REGION,
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../../senza/test-support/moto.js';
import { freePorts } from '../../stups/free-ports.js';
import { samlMetadata, signedSamlResponse } from '../../token-service/aws/saml.js';
import { runMai } from './main.js';

const PROVIDER = `arn:aws:iam::${MOTO_ACCOUNT}:saml-provider/corp`;
const roleArn = (role: string) => `arn:aws:iam::${MOTO_ACCOUNT}:role/${role}`;
const PASSWORDS: Record<string, string> = {
  jdoe: 'jdoe-Secret-1',
  'no-aws': 'no-aws-Secret-1',
};
/**
 * The IdP's mapping: jdoe may be PowerUser; no-aws logs in but gets no AWS role. One role each:
 * moto's AssumeRoleWithSAML reads a single Role value only (several make it answer 500).
 */
const ROLES: Record<string, string[]> = { jdoe: ['PowerUser'], 'no-aws': [] };
const SSO_PATH = '/idp/profile/SAML2/Unsolicited/SSO';

interface IdpSession {
  csrf: string;
  user?: string;
}

/**
 * A company's own IdP as STUPS had it (Shibboleth IdP 3 style): the AWS entry point sets a session
 * cookie and redirects to the execution's login form (with a CSRF token), the password post
 * redirects again, and the last page is the auto-submit form to AWS with a signed SAMLResponse.
 * Every step refuses a request without the session cookie, so mai must carry cookies through
 * redirects. The SAML Response is signed with a selfsigned certificate (xml-crypto).
 */
async function startCompanyIdp(): Promise<{
  app: FastifyInstance;
  url: string;
  metadata: string;
  posts: string[];
}> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'idp.corp.example' }], {
    keySize: 2048,
  });
  const [port] = await freePorts(1);
  const base = `http://127.0.0.1:${port}`;
  const idp = { entityId: `${base}/idp/shibboleth`, baseUrl: base };
  const sessions = new Map<string, IdpSession>();
  const posts: string[] = [];
  const app = Fastify();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  const sessionOf = (request: FastifyRequest) => {
    const id = /(?:^|;\s*)JSESSIONID=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
    return id ? sessions.get(id) : undefined;
  };
  const loginPage = (reply: FastifyReply, session: IdpSession, error?: string) =>
    reply.type('text/html; charset=utf-8').send(`<!DOCTYPE html>
<html><head><title>Corp Login</title><script>if (x < 1 && y > 2) { document.write('<form action="/evil">') }</script></head>
<body>
<!-- <form action="/commented-out"><input type="password" name="old"></form> -->
${error ? `<p class="form-error">${error}</p>` : ''}
<form action="${SSO_PATH}?execution=e1s1" method="post">
  <input type="hidden" name="csrf_token" value="${session.csrf}">
  <label for="username">Username</label> <input id="username" name="j_username" type="text" value="" autofocus>
  <label for="password">Password</label> <input id="password" name="j_password" type=password>
  <input type="checkbox" name="donotcache" value="1">
  <button type="submit" name="_eventId_proceed">Login</button>
</form></body></html>`);

  app.get(SSO_PATH, async (request, reply) => {
    const query = request.query as { providerId?: string; execution?: string };
    if (query.providerId === 'urn:amazon:webservices') {
      const id = randomBytes(16).toString('hex');
      sessions.set(id, { csrf: randomBytes(8).toString('hex') });
      return reply
        .header('set-cookie', `JSESSIONID=${id}; Path=/idp; HttpOnly`)
        .redirect(`${SSO_PATH}?execution=e1s1`, 302);
    }
    const session = sessionOf(request);
    if (!session) return reply.code(400).type('text/html').send('<p>Stale request: no session</p>');
    if (query.execution === 'e1s1') return loginPage(reply, session);
    if (query.execution === 'e1s2' && session.user) {
      const user = session.user;
      const signed = await signedSamlResponse(
        idp,
        { kid: 'corp', privateKeyPem: pems.private, certificatePem: pems.cert },
        {
          uid: user,
          roles: (ROLES[user] ?? []).map((role) => ({ roleArn: roleArn(role), providerArn: PROVIDER })),
          destination: 'https://signin.aws.amazon.com/saml',
          audience: 'urn:amazon:webservices',
          sessionDurationSeconds: 3600,
          lifetimeSeconds: 300,
          now: Date.now,
        },
      );
      if (!ROLES[user]?.length)
        return reply.type('text/html').send('<p>You are not entitled to any AWS account.</p>');
      const encoded = Buffer.from(signed.xml).toString('base64');
      return reply.type('text/html').send(`<html><body onload="document.forms[0].submit()">
<noscript><p>Press Continue.</p></noscript>
<form action="https://signin.aws.amazon.com/saml" method="post">
<div><input type="hidden" name="RelayState" value="&#x2F;console"/>
<input type="hidden" name="SAMLResponse" value="${encoded.replace(/(.{76})/g, '$1\n')}"/></div>
<noscript><div><input type="submit" value="Continue"/></div></noscript>
</form></body></html>`);
    }
    return reply.code(400).type('text/html').send('<p>Unknown execution</p>');
  });

  app.post(SSO_PATH, async (request, reply) => {
    const session = sessionOf(request);
    const form = request.body as Record<string, string>;
    posts.push(Object.keys(form).sort().join(','));
    if (!session || form.csrf_token !== session.csrf)
      return reply.code(403).type('text/html').send('<p>CSRF check failed</p>');
    const user = form.j_username ?? '';
    if (PASSWORDS[user] === undefined || PASSWORDS[user] !== form.j_password)
      return loginPage(reply, session, 'The password you entered was incorrect.');
    session.user = user;
    return reply.redirect(`${SSO_PATH}?execution=e1s2`, 302);
  });
  await app.listen({ host: '127.0.0.1', port: port! });
  return {
    app,
    url: `${base}${SSO_PATH}?providerId=urn:amazon:webservices`,
    metadata: samlMetadata(idp, [pems.cert], SSO_PATH),
    posts,
  };
}

describe.skipIf(skipWithoutMoto())(
  'mai login at a company SAML IdP with a form login (STUPS Shibboleth flow)',
  () => {
    let company: Awaited<ReturnType<typeof startCompanyIdp>>;
    let moto: RunningMoto;
    const homes: CapturedIo[] = [];

    beforeAll(async () => {
      company = await startCompanyIdp();
      moto = await startMoto();
      const iam = new IAMClient(motoClientConfig(moto.endpoint));
      // As an account admin (Seven Seconds) sets it up: the IdP's metadata, roles trusting it.
      const provider = await iam.send(
        new CreateSAMLProviderCommand({ Name: 'corp', SAMLMetadataDocument: company.metadata }),
      );
      expect(provider.SAMLProviderArn).toBe(PROVIDER);
      for (const role of ['PowerUser', 'ReadOnly', 'Administrator']) {
        await iam.send(
          new CreateRoleCommand({
            RoleName: role,
            AssumeRolePolicyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Federated: PROVIDER },
                  Action: 'sts:AssumeRoleWithSAML',
                  Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
                },
              ],
            }),
          }),
        );
      }
      iam.destroy();
    }, 90_000);

    afterAll(async () => {
      for (const io of homes) await io.cleanup();
      await moto?.stop();
      await company?.app.close();
    });

    /** A HOME with mai.yaml naming the company IdP, as STUPS Mai's users had it. */
    async function home(profiles: Record<string, { role: string; user?: string; url?: string }>) {
      const io = await captureIo({
        env: {
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_REGION: MOTO_REGION,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      });
      homes.push(io);
      await mkdir(join(io.home, '.config', 'mai'), { recursive: true });
      const yaml = Object.entries(profiles)
        .map(
          ([name, p]) =>
            `${name}:\n  saml_identity_provider_url: '${p.url ?? company.url}'\n` +
            `  saml_role: ['${PROVIDER}', '${roleArn(p.role)}', corp-prod]\n` +
            (p.user ? `  saml_user: ${p.user}\n` : ''),
        )
        .join('');
      await writeFile(join(io.home, '.config', 'mai', 'mai.yaml'), yaml);
      return io.env;
    }

    /** Runs mai on a "terminal" whose password prompt answers from `answers` (and records the prompts). */
    async function mai(env: NodeJS.ProcessEnv, args: string[], answers: string[] = [], tty = true) {
      const io = await captureIo({ env });
      if (tty) Object.assign(io.stdin, { isTTY: true });
      const prompts: string[] = [];
      const code = await runMai(args, {
        io,
        promptPassword: async (message) => {
          prompts.push(message);
          return answers.shift() ?? '';
        },
      });
      await io.cleanup();
      return { code, out: io.out(), err: io.err(), prompts };
    }

    async function callerArn(env: NodeJS.ProcessEnv) {
      const sts = new STSClient({
        region: MOTO_REGION,
        endpoint: moto.endpoint,
        credentials: fromIni({ profile: 'default', filepath: join(env.HOME!, '.aws', 'credentials') }),
      });
      try {
        return (await sts.send(new GetCallerIdentityCommand({}))).Arn;
      } finally {
        sts.destroy();
      }
    }

    it('logs in through the form (cookies, CSRF, redirects), asks again after a wrong password, and STS credentials work', async () => {
      const env = await home({ corp: { role: 'PowerUser', user: 'jdoe' } });
      const wrong = 'not-the-password';
      const result = await mai(env, ['login', 'corp'], [wrong, PASSWORDS.jdoe!]);
      expect(result.err).toBe(`Authentication Failed for jdoe at ${company.url}, please try again\n`);
      expect(result.code).toBe(0);
      expect(result.prompts).toEqual([
        `Password for jdoe at ${new URL(company.url).host}:`,
        `Password for jdoe at ${new URL(company.url).host}:`,
      ]);
      expect(result.out).toMatch(
        new RegExp(
          `^AWS Account ${MOTO_ACCOUNT} \\(corp-prod\\): PowerUser: credentials for \\[default\\] in .*credentials, valid until \\S+\\n$`,
        ),
      );
      // The form's own fields went back (CSRF token, submit button), the unchecked box did not.
      expect(company.posts.slice(-2)).toEqual([
        '_eventId_proceed,csrf_token,j_password,j_username',
        '_eventId_proceed,csrf_token,j_password,j_username',
      ]);
      const file = join(env.HOME!, '.aws', 'credentials');
      const written = await readFile(file, 'utf8');
      expect(written).toMatch(/aws_session_token = \S+/);
      expect(written).toMatch(/aws_security_token = \S+/);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      for (const text of [written, result.out, result.err]) {
        expect(text).not.toContain(PASSWORDS.jdoe);
        expect(text).not.toContain(wrong);
      }
      // moto's AssumeRoleWithSAML took the RoleSessionName from the company IdP's assertion.
      expect(await callerArn(env)).toBe(`arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/PowerUser/jdoe`);
    });

    it('says in one line what went wrong: the password three times, a role the IdP does not give, no SAMLResponse, no terminal, no user', async () => {
      const env = await home({
        corp: { role: 'PowerUser', user: 'jdoe' },
        admin: { role: 'Administrator', user: 'jdoe' },
        'no-aws': { role: 'ReadOnly', user: 'no-aws' },
        nouser: { role: 'PowerUser' },
      });
      const refused = await mai(env, ['login', 'corp'], ['a', 'b', 'c']);
      expect(refused.code).toBe(1);
      expect(refused.prompts).toHaveLength(3);
      expect(refused.err.split('\n').at(-2)).toBe(`mai: Authentication Failed for jdoe at ${company.url}`);

      const admin = await mai(env, ['login', 'admin'], [PASSWORDS.jdoe!]);
      expect(admin).toMatchObject({
        code: 1,
        err: `mai: the identity provider at ${company.url} does not give jdoe the role ${roleArn('Administrator')} with ${PROVIDER} (its roles: ${roleArn('PowerUser')})\n`,
      });

      const none = await mai(env, ['login', 'no-aws'], [PASSWORDS['no-aws']!]);
      expect(none.code).toBe(1);
      expect(none.err).toMatch(
        new RegExp(
          `^mai: the identity provider at .* sent no SAMLResponse after the login \\(last page http://127\\.0\\.0\\.1:\\d+${SSO_PATH}\\?execution=e1s2\\)\\n$`,
        ),
      );

      const script = await mai(env, ['login', 'corp'], [], false);
      expect(script).toMatchObject({
        code: 1,
        err: `mai: mai needs the password of jdoe at ${company.url}: run it on a terminal\n`,
      });

      const nouser = await mai(env, ['login', 'nouser']);
      expect(nouser.code).toBe(1);
      expect(nouser.err).toMatch(
        /^mai: profile "nouser" has no saml_user for the identity provider at .*: set SAML_USER/,
      );
      // SAML_USER stands in for a missing saml_user, as for "mai create -U".
      const fromEnv = await mai(
        { ...env, SAML_USER: 'jdoe' },
        ['credential-process', 'nouser'],
        [PASSWORDS.jdoe!],
      );
      expect(fromEnv.code).toBe(0);
      expect(JSON.parse(fromEnv.out)).toMatchObject({ Version: 1, AccessKeyId: expect.any(String) });
    });

    it('names an unreachable IdP in one line', async () => {
      const [closed] = await freePorts(1);
      const url = `http://127.0.0.1:${closed}/idp/profile/SAML2/Unsolicited/SSO?providerId=urn:amazon:webservices`;
      const env = await home({ gone: { role: 'PowerUser', user: 'jdoe', url } });
      const result = await mai(env, ['login', 'gone'], [PASSWORDS.jdoe!]);
      expect(result).toMatchObject({
        code: 1,
        err: `mai: cannot reach the identity provider at ${url}: ECONNREFUSED\n`,
      });
      // Without a query the URL is first asked for a token service's discovery document.
      const bare = await home({
        gone: { role: 'PowerUser', user: 'jdoe', url: `http://127.0.0.1:${closed}` },
      });
      expect((await mai(bare, ['login', 'gone'])).err).toBe(
        `mai: cannot reach the identity provider at http://127.0.0.1:${closed}: ECONNREFUSED\n`,
      );
    });

    it('refuses an ambiguous command prefix with the candidates (req: request, requests, require)', async () => {
      const env = await home({ corp: { role: 'PowerUser', user: 'jdoe' } });
      expect(await mai(env, ['req'])).toMatchObject({
        code: 2,
        err: 'mai: "req" is ambiguous: request, requests, require\n',
      });
      expect(await mai(env, ['requi', 'nope'])).toMatchObject({
        code: 1,
        err: 'mai: profile "nope" does not exist (profiles: corp)\n',
      });
    });
  },
);
