import { timingSafeEqual } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import type * as Ssh2Package from 'ssh2';
import { lazyPackage } from '../platform/lazy-package.js';
import type { BastionTarget } from './host-policy.js';

// Loaded on the first bastion call, not with even (see lazyPackage).
const ssh2 = lazyPackage<typeof Ssh2Package>('ssh2');

/** What a forced command on a bastion answered. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs one command line on a bastion as even's granting user. */
export interface BastionClient {
  /** Resolves with the exit code and output; rejects only when the bastion cannot be reached. */
  run(target: BastionTarget, command: string): Promise<CommandResult>;
  close(): Promise<void>;
}

/** The bastion could not be reached, refused even's key, or did not answer in time. */
export class BastionError extends Error {
  constructor(target: BastionTarget, cause: unknown) {
    const detail =
      cause instanceof Error
        ? 'code' in cause && typeof cause.code === 'string'
          ? cause.code
          : cause.message
        : String(cause);
    super(`bastion ${target.hostname} (${target.address}:${target.port}): ${detail}`, { cause });
    this.name = 'BastionError';
  }
}

export interface SshBastionClientOptions {
  user: string;
  privateKey: string;
  /** OpenSSH public key lines (`ssh-ed25519 AAAA…`) a bastion may present. */
  knownHostKeys: readonly string[];
  acceptAnyHostKey: boolean;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnectionsPerHost: number;
}

interface PooledConnection {
  client: Client;
  ready: Promise<void>;
  busy: number;
  closed: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

/** Below OpenSSH's default MaxSessions (10), leaving room for sessions sshd has yet to free. */
const MAX_CHANNELS_PER_CONNECTION = 6;
const CHANNEL_ATTEMPTS = 4;
const CHANNEL_RETRY_DELAY_MS = 25;

/** Most forced-command exits say what went wrong on stderr; keep answers short. */
const MAX_OUTPUT = 16 * 1024;

/**
 * SSH with `ssh2` (pure JavaScript). Connections are kept per bastion and reused: every grant
 * is one exec channel on an open connection, so it costs no key exchange or process start.
 * A bastion's host key must be one of `knownHostKeys`.
 */
export class SshBastionClient implements BastionClient {
  readonly #pools = new Map<string, PooledConnection[]>();
  readonly #hostKeys: Buffer[];
  /** Callers waiting for a channel, per bastion. */
  readonly #waiters = new Map<string, (() => void)[]>();

  constructor(private readonly options: SshBastionClientOptions) {
    this.#hostKeys = options.knownHostKeys.map((line) => Buffer.from(line.split(' ')[1]!, 'base64'));
  }

  async run(target: BastionTarget, command: string): Promise<CommandResult> {
    for (let attempt = 1; ; attempt++) {
      // A refused channel (sshd frees session slots a moment after the client sees them close)
      // is retried on the same connection after a short pause; grant and revoke are idempotent.
      if (attempt > 1) await delay(CHANNEL_RETRY_DELAY_MS * (attempt - 1));
      const connection = await this.#acquire(target);
      try {
        return await this.#exec(connection, command);
      } catch (error) {
        if (error instanceof ChannelError && attempt < CHANNEL_ATTEMPTS && !connection.closed) continue;
        this.#discard(target, connection);
        throw error instanceof BastionError ? error : new BastionError(target, error);
      } finally {
        this.#release(target, connection);
      }
    }
  }

  async close(): Promise<void> {
    for (const [key, pool] of this.#pools) {
      for (const connection of pool) {
        connection.closed = true;
        clearTimeout(connection.idleTimer);
        connection.client.end();
      }
      this.#pools.delete(key);
    }
  }

  async #acquire(target: BastionTarget): Promise<PooledConnection> {
    const key = `${target.address}:${target.port}`;
    let connection: PooledConnection | undefined;
    for (;;) {
      const pool = this.#pools.get(key) ?? [];
      this.#pools.set(key, pool);
      const live = pool.filter((c) => !c.closed);
      connection = live.find((c) => c.busy === 0);
      if (!connection && live.length < this.options.maxConnectionsPerHost) {
        connection = this.#connect(target);
        pool.push(connection);
      }
      if (!connection && live.length) {
        const least = live.reduce((a, b) => (b.busy < a.busy ? b : a));
        if (least.busy < MAX_CHANNELS_PER_CONNECTION) connection = least;
      }
      if (connection) break;
      // Every connection carries as many channels as sshd allows (MaxSessions): wait for one.
      const waiting = this.#waiters.get(key) ?? [];
      this.#waiters.set(key, waiting);
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    connection.busy++;
    clearTimeout(connection.idleTimer);
    try {
      await connection.ready;
    } catch (error) {
      connection.busy--;
      this.#discard(target, connection);
      throw new BastionError(target, error);
    }
    return connection;
  }

  #release(target: BastionTarget, connection: PooledConnection): void {
    connection.busy--;
    this.#waiters.get(`${target.address}:${target.port}`)?.shift()?.();
    if (connection.busy === 0 && !connection.closed) {
      connection.idleTimer = setTimeout(() => this.#discard(target, connection), this.options.idleTimeoutMs);
      connection.idleTimer.unref();
    }
  }

  #discard(target: BastionTarget, connection: PooledConnection): void {
    if (!connection.closed) this.#waiters.get(`${target.address}:${target.port}`)?.shift()?.();
    connection.closed = true;
    clearTimeout(connection.idleTimer);
    connection.client.end();
    const pool = this.#pools.get(`${target.address}:${target.port}`);
    if (pool) {
      const index = pool.indexOf(connection);
      if (index >= 0) pool.splice(index, 1);
    }
  }

  #connect(target: BastionTarget): PooledConnection {
    const client = new (ssh2().Client)();
    let rejectedHostKey = false;
    const connection: PooledConnection = {
      client,
      busy: 0,
      closed: false,
      idleTimer: undefined,
      ready: new Promise<void>((resolve, reject) => {
        client.once('ready', resolve);
        client.once('error', (error: Error) =>
          reject(
            rejectedHostKey
              ? new Error(
                  `bastion ${target.address}:${target.port} presented a host key that is not in even's ssh.knownHostKeys`,
                )
              : error,
          ),
        );
      }),
    };
    connection.ready.catch(() => {});
    client.on('error', () => {
      connection.closed = true;
    });
    client.on('close', () => {
      connection.closed = true;
    });
    const config: ConnectConfig = {
      host: target.address,
      port: target.port,
      username: this.options.user,
      privateKey: this.options.privateKey,
      readyTimeout: this.options.connectTimeoutMs,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => {
        rejectedHostKey = !this.#trusted(key);
        return !rejectedHostKey;
      },
    };
    client.connect(config);
    return connection;
  }

  #trusted(key: Buffer): boolean {
    if (this.options.acceptAnyHostKey) return true;
    return this.#hostKeys.some((known) => known.length === key.length && timingSafeEqual(known, key));
  }

  #exec(connection: PooledConnection, command: string): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      connection.client.exec(command, (error, channel: ClientChannel) => {
        if (error) {
          reject(new ChannelError(error.message));
          return;
        }
        let stdout = '';
        let stderr = '';
        let exitCode: number | undefined;
        const timer = setTimeout(() => {
          channel.close();
          reject(new Error(`the command did not finish within ${this.options.commandTimeoutMs} ms`));
        }, this.options.commandTimeoutMs);
        channel.on('data', (chunk: Buffer) => {
          if (stdout.length < MAX_OUTPUT) stdout += chunk.toString('utf8');
        });
        channel.stderr.on('data', (chunk: Buffer) => {
          if (stderr.length < MAX_OUTPUT) stderr += chunk.toString('utf8');
        });
        channel.on('exit', (code: number | null, signal?: string) => {
          exitCode = code ?? (signal ? 128 : 255);
        });
        channel.on('close', () => {
          clearTimeout(timer);
          if (exitCode === undefined && stdout === '' && stderr === '') {
            // No exit status and no word: the session never ran (e.g. sshd's MaxSessions).
            reject(new ChannelError('the bastion closed the channel without running the command'));
            return;
          }
          resolve({
            exitCode: exitCode ?? 255,
            stdout: stdout.slice(0, MAX_OUTPUT),
            stderr: stderr.slice(0, MAX_OUTPUT),
          });
        });
      });
    });
  }
}

/** The connection was open but refused a new channel (e.g. closed meanwhile): worth one retry. */
class ChannelError extends Error {}
