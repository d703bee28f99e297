import type { InTransaction } from '../platform/audit/create-audit.js';
import { GuessThrottle } from '../platform/auth/guess-throttle.js';
import type { Principal } from '../platform/auth/principal.js';
import type { Database } from '../platform/db/database.js';
import type { TeamPolicy } from '../platform/authz/team-policy.js';
import { InputError, NotAllowedError, NotFoundError } from '../platform/errors.js';
import type { UserStore } from './store.js';

/**
 * Limits on guessing the current password through the password change (issue 12 §6): per user
 * and source address, per source, and per user overall (high, so nobody can lock a user out).
 */
export const PASSWORD_CHANGE_GUESSES = {
  perAccountAndSource: 5,
  perSource: 50,
  perAccount: 50,
  windowMs: 15 * 60_000,
};

/**
 * Who may set a password, and with what proof: an administrator sets anyone's; an employee sets
 * their own only with the current password, and only a few wrong guesses per source address,
 * so that a stolen token does not become a way to learn its owner's password.
 */
export class PasswordChange {
  readonly #guesses: GuessThrottle;

  constructor(
    private readonly users: UserStore,
    private readonly policy: TeamPolicy,
    database: Database,
  ) {
    // In the database: every replica counts the same guesses.
    this.#guesses = new GuessThrottle(database, 'users.password-change', PASSWORD_CHANGE_GUESSES);
  }

  async change(
    request: {
      principal: Principal;
      uid: string;
      password: string;
      currentPassword: string | undefined;
      /** The client's address, for the guess throttle. */
      source: string;
    },
    inTransaction?: InTransaction<void>,
  ): Promise<void> {
    const { principal, uid, source } = request;
    this.policy.assertSelfOrAdmin(principal, uid, 'change this');
    if (!(await this.users.getUser(uid))) throw new NotFoundError(`user ${uid} does not exist`);
    if (!this.policy.isAdmin(principal)) {
      const current = request.currentPassword;
      if (current === undefined)
        throw new InputError('current_password is required to change your own password');
      // A throttled attempt is answered like a wrong password, after the same work.
      const throttled = (await this.#guesses.retryAfter(uid, source)) > 0;
      if (!(await this.users.verifyPassword(uid, current)) || throttled) {
        if (!throttled) await this.#guesses.recordFailure(uid, source);
        throw new NotAllowedError('the current password is wrong', { code: 'PASSWORD_WRONG' });
      }
      await this.#guesses.recordSuccess(uid, source);
    }
    await this.users.setPassword(uid, request.password, inTransaction);
  }
}
