import { type FormEvent, useState } from 'react';
import type { Api } from '../api/services';
import type { Application } from '../api/types';
import { Empty, Loaded } from '../components/states';
import { plural } from '../lib/format';
import { parseSnippet } from '../../../shared/snippet';
import { Link, path, useRouter } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

export interface ArtifactHit {
  team: string;
  artifact: string;
}

const MAX_ARTIFACT_HITS = 50;

/**
 * Pier One has no search: the console lists the teams with artifacts and their artifact names
 * and matches the term against `team/artifact`.
 */
export async function searchArtifacts(api: Api, term: string): Promise<ArtifactHit[]> {
  const needle = term.trim().toLowerCase();
  const teams = await api.pieroneTeams();
  const lists = await Promise.all(
    teams.map(async (team) => (await api.artifacts(team)).map((artifact) => ({ team, artifact }))),
  );
  const words = needle.split(/\s+/).filter(Boolean);
  return lists
    .flat()
    .filter((hit) => words.every((w) => `${hit.team}/${hit.artifact}`.toLowerCase().includes(w)))
    .slice(0, MAX_ARTIFACT_HITS);
}

function Snippet({ html }: { html: string }) {
  return (
    <>{parseSnippet(html).map((part, i) => (part.marked ? <mark key={i}>{part.text}</mark> : part.text))}</>
  );
}

function ApplicationHits({ hits }: { hits: Application[] }) {
  if (hits.length === 0) {
    return <Empty title="No application matches.">Try fewer or other words, or part of the id.</Empty>;
  }
  return (
    <ul className="results">
      {hits.map((app) => (
        <li key={app.id}>
          <Link to={path('applications', app.id)} className="result-title">
            {app.name}
          </Link>{' '}
          <span className="muted">
            {app.id} · team {app.team_id}
            {!app.active && ' · inactive'}
          </span>
          {app.matched_description ? (
            <p className="snippet">
              <Snippet html={app.matched_description} />
            </p>
          ) : (
            app.subtitle && <p className="snippet">{app.subtitle}</p>
          )}
        </li>
      ))}
    </ul>
  );
}

function ArtifactHits({ hits }: { hits: ArtifactHit[] }) {
  if (hits.length === 0) {
    return <Empty title="No Docker image matches.">Images are found by team and artifact name.</Empty>;
  }
  return (
    <ul className="results">
      {hits.map((hit) => (
        <li key={`${hit.team}/${hit.artifact}`}>
          <Link to={path('artifacts', hit.team, hit.artifact)} className="result-title">
            {hit.team}/{hit.artifact}
          </Link>
        </li>
      ))}
    </ul>
  );
}

function Results({ term }: { term: string }) {
  const { api } = useSignedIn();
  const apps = useLoad((signal) => api.searchApplications(term, signal), [term]);
  const images = useLoad(() => searchArtifacts(api, term), [term]);
  return (
    <div className="columns">
      <section aria-labelledby="apps-heading">
        <h2 id="apps-heading">
          Applications <span className="muted">in Kio</span>
          {apps.status === 'ready' && <span className="count"> {plural(apps.data.length, 'hit')}</span>}
        </h2>
        <Loaded state={apps} label="Searching applications…">
          {(hits) => <ApplicationHits hits={hits} />}
        </Loaded>
      </section>
      <section aria-labelledby="images-heading">
        <h2 id="images-heading">
          Docker images <span className="muted">in Pier One</span>
          {images.status === 'ready' && <span className="count"> {plural(images.data.length, 'hit')}</span>}
        </h2>
        <Loaded state={images} label="Searching Docker images…">
          {(hits) => <ArtifactHits hits={hits} />}
        </Loaded>
      </section>
    </div>
  );
}

export function SearchPage() {
  const { location, navigate } = useRouter();
  const term = location.query.get('q')?.trim() ?? '';
  const [text, setText] = useState(term);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const q = text.trim();
    navigate(q ? `/search?${new URLSearchParams({ q })}` : '/search');
  };
  return (
    <section>
      <h1>Search</h1>
      <form role="search" className="search-form" onSubmit={submit}>
        <label htmlFor="search-input" className="visually-hidden">
          Search applications and Docker images
        </label>
        <input
          id="search-input"
          type="search"
          value={text}
          placeholder="Application id, name, description, or image name"
          onChange={(e) => setText(e.target.value)}
          autoFocus
        />
        <button type="submit" className="button">
          Search
        </button>
      </form>
      {term ? (
        <Results term={term} />
      ) : (
        <Empty title="Search applications in Kio and Docker images in Pier One.">
          Type a word from an application's name or description, its id, or an image name.
        </Empty>
      )}
    </section>
  );
}
