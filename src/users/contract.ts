import { z } from 'zod';

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
