import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient, ListStacksCommand } from '@aws-sdk/client-cloudformation';
import { IAMClient, ListAccountAliasesCommand } from '@aws-sdk/client-iam';
import { ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { awsCall } from './aws/aws-error.js';

// An error page as proxies and emulators send it; `<br>` makes it invalid XML.
const PAGE = '<html><head><title>Error</title></head><body><p>Internal error<br></p></body></html>';
let server: Server;
let endpoint: string;
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

it('reports an HTML error page as what it is, not as an XML parse error', async () => {
  const config = () => ({
    region: 'eu-west-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const iam = new IAMClient(config());
  const cf = new CloudFormationClient(config());
  const r53 = new Route53Client(config());
  const calls: [string, string, () => Promise<unknown>][] = [
    ['IAM', 'ListAccountAliases', () => iam.send(new ListAccountAliasesCommand({}))],
    ['CloudFormation', 'ListStacks', () => cf.send(new ListStacksCommand({}))],
    ['Route53', 'ListHostedZones', () => r53.send(new ListHostedZonesCommand({}))],
  ];
  for (const [service, operation, call] of calls) {
    await expect(awsCall(service, operation, call)).rejects.toThrow(
      new RegExp(`^AWS ${service} ${operation} failed: endpoint answered HTTP 500 with HTML$`),
    );
  }
});
