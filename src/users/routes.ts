import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createAudit } from '../platform/audit/create-audit.js';
import { requestAudit } from '../platform/audit/request-audit.js';
import { auditRefusals } from '../platform/audit/refusal-audit.js';
import { principalOf, requireAuth } from '../platform/auth/http-auth.js';
import { TeamPolicy } from '../platform/authz/team-policy.js';
import { NotFoundError } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import {
  AddSshKeySchema,
  ChangePasswordSchema,
  PutUserSchema,
  SshKeySchema,
  UidSchema,
  UserSchema,
} from './contract.js';
import { USERS_EVENTS } from './events.js';
import { PasswordChange } from './password-change.js';
import type { UserStore } from './store.js';

const UidParams = z.object({ uid: UidSchema });
const bearer = [{ bearer: [] }];

export function registerUserRoutes(app: HttpApp, ctx: ServiceContext, users: UserStore): void {
  const authenticated = requireAuth(ctx.verifier);
  const audit = createAudit(ctx.auditLog, 'users', USERS_EVENTS);
  auditRefusals(app, audit);
  // Users belong to no team: the policy answers "is this the employee" and "is this an admin".
  const policy = new TeamPolicy({
    teams: { isMember: async () => false },
    applications: { getApplication: async () => undefined },
    adminPolicy: ctx.adminPolicy,
  });
  const passwordChange = new PasswordChange(users, policy, ctx.database);
  const requireSelfOrAdmin = (request: FastifyRequest, uid: string) => {
    const principal = principalOf(request);
    policy.assertSelfOrAdmin(principal, uid, 'change this');
    return principal;
  };
  const auditIn = requestAudit(audit);
  const mustExist = async (uid: string) => {
    const user = await users.getUser(uid);
    if (!user) throw new NotFoundError(`user ${uid} does not exist`);
    return user;
  };

  app.get(
    '/employees',
    {
      preHandler: authenticated,
      schema: {
        summary: 'List employees',
        tags: ['users'],
        security: bearer,
        response: { 200: z.array(UserSchema) },
      },
    },
    async () => users.listUsers(),
  );

  app.get(
    '/employees/:uid',
    {
      preHandler: authenticated,
      schema: {
        summary: 'One employee',
        tags: ['users'],
        security: bearer,
        params: UidParams,
        response: { 200: UserSchema },
      },
    },
    async (request) => mustExist(request.params.uid),
  );

  app.put(
    '/employees/:uid',
    {
      preHandler: authenticated,
      config: audit.route('users.user.put'),
      schema: {
        summary: 'Create or update an employee (administrators)',
        tags: ['users'],
        security: bearer,
        params: UidParams,
        body: PutUserSchema,
        response: { 200: UserSchema, 201: UserSchema },
      },
    },
    async (request, reply) => {
      policy.assertAdmin(principalOf(request), 'create or change users');
      // Which fields were sent, never the password itself.
      const fields = Object.keys(request.body).filter((k) => k !== 'password');
      const { uid } = request.params;
      const { created, user } = await users.putUser(uid, request.body, (trx, result) =>
        auditIn(request, 'users.user.put', uid, {
          created: result.created,
          fields,
          password_set: request.body.password !== undefined,
          disabled: result.user.disabled,
        })(trx),
      );
      reply.status(created ? 201 : 200);
      return user;
    },
  );

  app.put(
    '/employees/:uid/password',
    {
      preHandler: authenticated,
      config: audit.route('users.password.change'),
      schema: {
        summary: 'Change a password (the user, with the current password, or an administrator)',
        tags: ['users'],
        security: bearer,
        params: UidParams,
        body: ChangePasswordSchema,
      },
    },
    async (request, reply) => {
      const { uid } = request.params;
      await passwordChange.change(
        {
          principal: principalOf(request),
          uid,
          password: request.body.password,
          currentPassword: request.body.current_password,
          source: request.ip,
        },
        auditIn(request, 'users.password.change', uid),
      );
      reply.status(204);
    },
  );

  // Public keys are not secrets (as on any code host); the bastion tooling reads them unauthenticated.
  app.get(
    '/employees/:uid/ssh',
    {
      schema: {
        summary: "The employee's SSH public keys, ready for authorized_keys",
        tags: ['users'],
        params: UidParams,
        produces: ['text/plain'],
      },
    },
    async (request, reply) => {
      await mustExist(request.params.uid);
      const keys = await users.sshKeys(request.params.uid);
      reply.type('text/plain; charset=utf-8');
      return keys.length ? `${keys.join('\n')}\n` : '';
    },
  );

  app.get(
    '/employees/:uid/ssh-keys',
    {
      preHandler: authenticated,
      schema: {
        summary: 'SSH public keys with fingerprints',
        tags: ['users'],
        security: bearer,
        params: UidParams,
        response: { 200: z.array(SshKeySchema) },
      },
    },
    async (request) => {
      await mustExist(request.params.uid);
      return users.listSshKeys(request.params.uid);
    },
  );

  app.post(
    '/employees/:uid/ssh-keys',
    {
      preHandler: authenticated,
      config: audit.route('users.ssh_key.add'),
      schema: {
        summary: 'Add an SSH public key (the user or an administrator)',
        tags: ['users'],
        security: bearer,
        params: UidParams,
        body: AddSshKeySchema,
        response: { 201: SshKeySchema },
      },
    },
    async (request, reply) => {
      const { uid } = request.params;
      requireSelfOrAdmin(request, uid);
      const key = await users.addSshKey(uid, request.body.public_key, (trx, added) =>
        auditIn(request, 'users.ssh_key.add', uid, { fingerprint: added.fingerprint })(trx),
      );
      reply.status(201);
      return key;
    },
  );

  app.delete(
    '/employees/:uid/ssh-keys/:fingerprint',
    {
      preHandler: authenticated,
      config: audit.route('users.ssh_key.remove'),
      schema: {
        summary: 'Remove an SSH public key by fingerprint',
        tags: ['users'],
        security: bearer,
        params: z.object({ uid: UidSchema, fingerprint: z.string().min(1).max(200) }),
      },
    },
    async (request, reply) => {
      const { uid, fingerprint } = request.params;
      requireSelfOrAdmin(request, uid);
      await users.removeSshKey(
        uid,
        fingerprint,
        auditIn(request, 'users.ssh_key.remove', uid, { fingerprint }),
      );
      reply.status(204);
    },
  );
}
