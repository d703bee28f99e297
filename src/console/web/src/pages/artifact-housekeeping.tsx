import type { RetentionRule } from '../api/types';
import { Empty, Loaded } from '../components/states';
import { formatBytes, formatTimestamp, plural } from '../lib/format';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

/** Tags deleted by a platform admin or a retention rule: "deleted by X on D because R". */
export function DeletedTags({ team, artifact }: { team: string; artifact: string }) {
  const { api } = useSignedIn();
  const state = useLoad(() => api.deletedTags(team, artifact), [team, artifact]);
  return (
    <Loaded state={state} label="Loading deleted tags…">
      {(deleted) =>
        deleted.length === 0 ? (
          <p className="muted">
            No tag of {team}/{artifact} was deleted.
          </p>
        ) : (
          <ul className="deleted-tags">
            {deleted.map((tag) => (
              <li key={tag.name}>
                <code>{tag.name}</code>: deleted by {tag.deleted_by} on {formatTimestamp(tag.deleted_at)}{' '}
                because {tag.reason}
              </li>
            ))}
          </ul>
        )
      }
    </Loaded>
  );
}

/** What the repository and its team store, and the team's quota. */
export function StorageUsage({ team, artifact }: { team: string; artifact: string }) {
  const { api } = useSignedIn();
  const state = useLoad(() => api.teamUsage(team), [team]);
  return (
    <Loaded state={state} label="Loading storage usage…">
      {(usage) => {
        const repository = usage.repositories.find((r) => r.artifact === artifact)?.bytes ?? 0;
        return (
          <dl className="facts">
            <div className="dl-row">
              <dt>This repository</dt>
              <dd>{formatBytes(repository)}</dd>
            </div>
            <div className="dl-row">
              <dt>Team {team}</dt>
              <dd>
                {formatBytes(usage.used_bytes)}
                {usage.quota_bytes !== undefined
                  ? ` of a ${formatBytes(usage.quota_bytes)} quota (${Math.round(
                      (100 * usage.used_bytes) / Math.max(usage.quota_bytes, 1),
                    )} %)`
                  : ' (no quota)'}
                <span className="muted block">
                  each blob counted once per team, in{' '}
                  {plural(usage.repositories.length, 'repository', 'repositories')}
                </span>
              </dd>
            </div>
          </dl>
        );
      }}
    </Loaded>
  );
}

function describeRule(rule: RetentionRule): string {
  const parts: string[] = [];
  if (rule.keep_last !== undefined) parts.push(`keep the newest ${rule.keep_last} tags`);
  if (rule.snapshot_days !== undefined) parts.push(`-SNAPSHOT tags go after ${rule.snapshot_days} days`);
  if (rule.keep_patterns.length > 0) parts.push(`always keep ${rule.keep_patterns.join(', ')}`);
  if (rule.keep_running) parts.push('always keep running images');
  return parts.join('; ');
}

/** The retention rule that applies to the repository and what it would delete now (dry run). */
export function Retention({ team, artifact }: { team: string; artifact: string }) {
  const { api } = useSignedIn();
  const state = useLoad(async () => {
    const [rules, plan] = await Promise.all([api.retentionRules(team), api.retentionPlan(team)]);
    const rule = rules.find((r) => r.artifact === artifact) ?? rules.find((r) => r.artifact === undefined);
    return { rule, plan: plan.find((p) => p.artifact === artifact) };
  }, [team, artifact]);
  return (
    <Loaded state={state} label="Loading retention rules…">
      {({ rule, plan }) =>
        !rule ? (
          <Empty title={`No retention rule applies to ${team}/${artifact}: every tag is kept.`} />
        ) : (
          <>
            <p>
              Rule of {rule.artifact === undefined ? `team ${team}` : `${team}/${artifact}`}:{' '}
              {describeRule(rule)}
              <span className="muted block">
                set by {rule.updated_by} on {formatTimestamp(rule.updated_at)}
              </span>
            </p>
            {plan?.skipped ? (
              <p className="muted">Not applied: {plan.skipped}.</p>
            ) : plan && plan.expired.length > 0 ? (
              <>
                <p>The next retention run would delete:</p>
                <ul className="retention-plan">
                  {plan.expired.map((e) => (
                    <li key={e.tag}>
                      <code>{e.tag}</code> ({e.reason})
                    </li>
                  ))}
                </ul>
              </>
            ) : (
              <p className="muted">The next retention run would delete nothing here.</p>
            )}
          </>
        )
      }
    </Loaded>
  );
}
