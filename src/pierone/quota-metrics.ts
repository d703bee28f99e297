import { Gauge, type Registry } from 'prom-client';
import type { PierOneQuotas, TeamUsage } from './quotas.js';

/** A scrape reads the usage once for its three gauges (which prom-client collects in parallel). */
const SHARED_READ_MS = 1000;

/**
 * `/metrics` gauges of storage per team and repository and of the quotas, read from the
 * database when scraped (three grouped queries over the blob links, once per scrape).
 */
export function registerUsageMetrics(registry: Registry, quotas: Pick<PierOneQuotas, 'allUsage'>): void {
  // One set per registry: a second Pier One in the same process (tests) reports through the first.
  if (registry.getSingleMetric('pierone_team_usage_bytes')) return;
  let read: { at: number; usage: Promise<TeamUsage[]> } | undefined;
  const usage = () => {
    const now = Date.now();
    if (!read || now - read.at > SHARED_READ_MS) read = { at: now, usage: quotas.allUsage() };
    return read.usage;
  };
  new Gauge({
    name: 'pierone_team_usage_bytes',
    help: "Bytes of the distinct blobs linked into a team's repositories, each blob once per team",
    labelNames: ['team'] as const,
    registers: [registry],
    async collect() {
      const teams = await usage();
      this.reset();
      for (const team of teams) this.set({ team: team.team }, team.usedBytes);
    },
  });
  new Gauge({
    name: 'pierone_repository_usage_bytes',
    help: 'Bytes of the blobs linked into a repository (a blob shared by repositories counts in each)',
    labelNames: ['team', 'artifact'] as const,
    registers: [registry],
    async collect() {
      const teams = await usage();
      this.reset();
      for (const team of teams)
        for (const r of team.repositories) this.set({ team: team.team, artifact: r.artifact }, r.bytes);
    },
  });
  new Gauge({
    name: 'pierone_team_quota_bytes',
    help: 'Storage quota of a team in bytes (teams without a quota are absent)',
    labelNames: ['team'] as const,
    registers: [registry],
    async collect() {
      const teams = await usage();
      this.reset();
      for (const team of teams)
        if (team.quotaBytes !== undefined) this.set({ team: team.team }, team.quotaBytes);
    },
  });
}
