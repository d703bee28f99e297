import { z } from 'zod';
import { lenientBoolean } from '../platform/http/lenient-schemas.js';

/** Employee user ids: lowercase, as used for SSH logins and in tokens. */
export const UidSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9._-]{0,62}$/,
    'must start with a letter and use lowercase letters, digits, ".", "_" or "-"',
  );

export const UserSchema = z.object({
  uid: UidSchema,
  name: z.string(),
  email: z.string(),
  disabled: z.boolean(),
});
export type User = z.infer<typeof UserSchema>;

/** How other components ask about employees. Passwords never leave the user store. */
export interface UserDirectory {
  getUser(uid: string): Promise<User | undefined>;
  /** True only for an existing, enabled user with exactly this password. */
  verifyPassword(uid: string, password: string): Promise<boolean>;
  /** OpenSSH public key lines (`ssh-ed25519 AAAA… comment`). */
  sshKeys(uid: string): Promise<string[]>;
}

/** `PUT /employees/{uid}` (administrators). */
export const PutUserSchema = z.strictObject({
  name: z.string().min(1).max(200),
  email: z.email().max(320),
  disabled: lenientBoolean.optional(),
  password: z.string().min(8, 'must have at least 8 characters').max(1000).optional(),
});

export const SshKeySchema = z.object({
  fingerprint: z.string(),
  public_key: z.string(),
  created: z.string(),
});

export const AddSshKeySchema = z.strictObject({ public_key: z.string().min(1).max(16_384) });

export const ChangePasswordSchema = z.strictObject({
  /** Required when users change their own password; administrators may omit it. */
  current_password: z.string().max(1000).optional(),
  password: z.string().min(8, 'must have at least 8 characters').max(1000),
});
