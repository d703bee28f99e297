// The part of negotiator 1.x the console uses. @types/negotiator describes 0.6, which has no
// `preferred` option: with it, equal client weights ("gzip, deflate, br") go to brotli.
declare module 'negotiator' {
  import type { IncomingMessage } from 'node:http';

  export default class Negotiator {
    constructor(request: IncomingMessage);
    encoding(available: readonly string[], options?: { preferred?: readonly string[] }): string | undefined;
  }
}
