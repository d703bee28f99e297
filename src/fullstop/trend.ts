import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { Principal } from '../platform/auth/principal.js';
import type { Database } from '../platform/db/database.js';
import { NotFoundError } from '../platform/errors.js';
import type { TeamDirectory } from '../teams/contract.js';
import type { FullstopViolationsTable } from './store.js';

export const MAX_TREND_DAYS = 366;

/** `GET /api/violation-trend` parameters. */
export const TrendQuerySchema = z.object({
  team: z.string().min(1).max(64).optional(),
  days: z.coerce.number().int().min(1).max(MAX_TREND_DAYS).default(30),
});
export type TrendQuery = z.output<typeof TrendQuerySchema>;

/** One UTC day: violations found that day, resolved that day, and open at its end. */
export const TrendDaySchema = z.object({
  day: z.string().regex(/^\d{4}-\d\d-\d\d$/),
  opened: z.number().int(),
  resolved: z.number().int(),
  open: z.number().int(),
});
export type TrendDay = z.infer<typeof TrendDaySchema>;

const DAY_MS = 24 * 60 * 60 * 1000;

function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * How a team's violations develop over time. "Resolved" is resolved with a comment (the time
 * the first comment was set); a violation counts for the account it was found in, so the
 * team's accounts as the team service knows them today decide what is shown.
 */
export class ViolationTrend {
  readonly #db: Kysely<{ fullstop_violations: FullstopViolationsTable }>;

  constructor(
    database: Database,
    private readonly teams: Pick<TeamDirectory, 'getTeam' | 'teamsOfMember'>,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#db = database.kysely();
  }

  /** `team` given: its accounts (404 for an unknown team); else those of every team of the caller. */
  async accountsFor(principal: Pick<Principal, 'uid'>, team: string | undefined): Promise<string[]> {
    if (team !== undefined) {
      const found = await this.teams.getTeam(team);
      if (!found) throw new NotFoundError(`team ${team} does not exist`, { code: 'TEAM_NOT_FOUND' });
      return found.aws_accounts;
    }
    const own = await this.teams.teamsOfMember(principal.uid);
    return [...new Set(own.flatMap((t) => t.aws_accounts))];
  }

  async trend(principal: Pick<Principal, 'uid'>, query: TrendQuery): Promise<TrendDay[]> {
    const accounts = await this.accountsFor(principal, query.team);
    const today = new Date(`${dayOf(this.now())}T00:00:00.000Z`);
    const start = new Date(today.getTime() - (query.days - 1) * DAY_MS);
    const days = Array.from({ length: query.days }, (_, i) => dayOf(new Date(start.getTime() + i * DAY_MS)));
    if (!accounts.length) return days.map((day) => ({ day, opened: 0, resolved: 0, open: 0 }));

    const utcDay = (column: 'created' | 'resolved_at') =>
      sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD')`;
    const [before, opened, resolved] = await Promise.all([
      // Open when the range starts: found before it, not resolved before it.
      this.#db
        .selectFrom('fullstop_violations')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('account_id', 'in', accounts)
        .where('created', '<', start)
        .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', start)]))
        .executeTakeFirstOrThrow(),
      this.#db
        .selectFrom('fullstop_violations')
        .select((eb) => [utcDay('created').as('day'), eb.fn.countAll<string>().as('n')])
        .where('account_id', 'in', accounts)
        .where('created', '>=', start)
        .groupBy(utcDay('created'))
        .execute(),
      this.#db
        .selectFrom('fullstop_violations')
        .select((eb) => [utcDay('resolved_at').as('day'), eb.fn.countAll<string>().as('n')])
        .where('account_id', 'in', accounts)
        .where('resolved_at', '>=', start)
        .groupBy(utcDay('resolved_at'))
        .execute(),
    ]);
    const openedOn = new Map(opened.map((r) => [r.day, Number(r.n)]));
    const resolvedOn = new Map(resolved.map((r) => [r.day, Number(r.n)]));
    let open = Number(before.n);
    // Days after today (a clock running ahead in an event) are left out: the range ends today.
    return days.map((day) => {
      const o = openedOn.get(day) ?? 0;
      const r = resolvedOn.get(day) ?? 0;
      open += o - r;
      return { day, opened: o, resolved: r, open };
    });
  }
}
