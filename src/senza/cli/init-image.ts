import { z } from 'zod';
import { loadToolConfig, normaliseUrl } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { HttpError } from '../../platform/cli/http-client.js';
import type { CliIo } from '../../platform/cli/run-cli.js';
import { serviceClient } from '../../platform/cli/service-client.js';
import { TagSchema } from '../../pierone/contract.js';
import { latestTag } from '../../pierone/cli/main.js';

/** What `senza init` proposes as the Docker image, and the line that says where it came from. */
export interface ProposedImage {
  image: string;
  note: string;
}

const AppSchema = z.object({ team_id: z.string().min(1) });

/**
 * The image of the application in Pier One (`<pierone host>/<team>/<application>`), when the
 * tools are configured (`stups configure`), a token exists (`zign login`), Kio knows the
 * application's team and Pier One holds tags of it; otherwise the template's default, with the
 * reason. Never asks for a password: without a token it falls back.
 */
export async function proposeImage(
  io: CliIo,
  applicationId: string,
  fallback: string,
): Promise<ProposedImage> {
  const fallbackWith = (reason: string): ProposedImage => ({
    image: fallback,
    note: `Note: proposing ${fallback}: ${reason}`,
  });
  const pierone = await loadToolConfig('pierone', io.env);
  if (!pierone.url) return fallbackWith('no Pier One configured ("stups configure URL" sets it)');
  // No password prompt (no promptPassword): a missing token is a reason to fall back, not to ask.
  const deps = { io };
  try {
    const kio = await serviceClient('kio', 'Kio', deps);
    let team: string;
    try {
      team = (
        await kio.parsed(AppSchema, 'an application', 'GET', `/apps/${encodeURIComponent(applicationId)}`)
      ).team_id;
    } catch (error) {
      if (error instanceof HttpError && error.status === 404)
        return fallbackWith(`Kio has no application ${applicationId} ("kio app create" registers it)`);
      throw error;
    }
    const registry = await serviceClient('pierone', 'Pier One', deps);
    let tags: z.output<typeof TagSchema>[];
    try {
      tags = await registry.parsed(
        z.array(TagSchema),
        'a tag list',
        'GET',
        `/teams/${encodeURIComponent(team)}/artifacts/${encodeURIComponent(applicationId)}/tags`,
      );
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) tags = [];
      else throw error;
    }
    const latest = latestTag(tags);
    const image = `${new URL(normaliseUrl(pierone.url)).host}/${team}/${applicationId}`;
    if (!latest) return fallbackWith(`Pier One has no image ${image} yet (push one first)`);
    return { image, note: `Docker image ${image} from Pier One (latest tag: ${latest.name})` };
  } catch (error) {
    if (error instanceof CliError) return fallbackWith(error.message);
    throw error;
  }
}
