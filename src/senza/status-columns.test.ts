import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeStackResourcesCommand, ListStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { runCli } from '../platform/cli/run-cli.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { senzaProgram } from './cli/main.js';
import { mockAws, stupsAccount } from './test-support/aws-mocks.js';

const aws = mockAws();
let server: Server;
let port: number;
const requests: string[] = [];
beforeAll(async () => {
  // The version domain of myapp-1 answers 503; myapp-2's never answers (the 1 s timeout ends it).
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/myapp-1.example.org/') res.writeHead(503).end('starting');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  aws.restore();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  aws.reset();
  stupsAccount(aws);
  requests.length = 0;
});

/** Sends `https://<domain>/<path>` to the local server as `/<domain>/<path>`. */
const localFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : input);
  return fetch(`http://127.0.0.1:${port}/${url.host}${url.pathname}`, init);
};

async function senza(args: string[]) {
  const io = await captureIo({ env: { AWS_REGION: 'eu-west-1' } });
  const code = await runCli(senzaProgram({ io, fetch: localFetch }), args, io);
  await io.cleanup();
  return { code, out: io.out(), err: io.err() };
}

const domainRecords = (version: string) => [
  {
    LogicalResourceId: 'AppLoadBalancerMainDomain',
    ResourceType: 'AWS::Route53::RecordSet',
    PhysicalResourceId: 'myapp.example.org',
    ResourceStatus: 'CREATE_COMPLETE' as const,
    Timestamp: new Date(0),
  },
  {
    LogicalResourceId: 'AppLoadBalancerVersionDomain',
    ResourceType: 'AWS::Route53::RecordSet',
    PhysicalResourceId: `myapp-${version}.example.org`,
    ResourceStatus: 'CREATE_COMPLETE' as const,
    Timestamp: new Date(0),
  },
];

const alias = (name: string) => ({ DNSName: name, HostedZoneId: 'Z', EvaluateTargetHealth: false });

it('senza status shows the HTTP answer of the version domain and whether the main domain points here', async () => {
  aws.cf.on(ListStacksCommand).resolves({
    StackSummaries: ['1', '2'].map((v, i) => ({
      StackName: `myapp-${v}`,
      StackId: `id-${v}`,
      StackStatus: 'CREATE_COMPLETE',
      CreationTime: new Date(1000 * (i + 1)),
    })),
  });
  aws.cf
    .on(DescribeStackResourcesCommand, { StackName: 'myapp-1' })
    .resolves({ StackResources: domainRecords('1') })
    .on(DescribeStackResourcesCommand, { StackName: 'myapp-2' })
    .resolves({ StackResources: domainRecords('2') });
  aws.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  // `senza traffic` gave version 1 all the traffic: its weighted record has weight 200.
  aws.r53.on(ListResourceRecordSetsCommand).resolves({
    IsTruncated: false,
    MaxItems: 100,
    ResourceRecordSets: [
      {
        Name: 'myapp.example.org.',
        Type: 'A',
        SetIdentifier: 'myapp-1',
        Weight: 200,
        AliasTarget: alias('lb-1.'),
      },
      {
        Name: 'myapp.example.org.',
        Type: 'A',
        SetIdentifier: 'myapp-2',
        Weight: 0,
        AliasTarget: alias('lb-2.'),
      },
      { Name: 'myapp-1.example.org.', Type: 'A', AliasTarget: alias('lb-1.') },
      { Name: 'myapp-2.example.org.', Type: 'A', AliasTarget: alias('lb-2.') },
    ],
  });

  const json = await senza(['status', 'myapp', '-o', 'json']);
  expect(json.code).toBe(0);
  expect(
    (JSON.parse(json.out) as Record<string, unknown>[]).map((r) => [r.version, r.http_status, r.main_dns]),
  ).toEqual([
    ['2', 'ERROR', false],
    ['1', 503, true],
  ]);
  // One GET per version domain, to its root.
  expect(requests.sort()).toEqual(['GET /myapp-1.example.org/', 'GET /myapp-2.example.org/']);

  const text = await senza(['status', 'myapp', '1']);
  const [header, row] = text.out.split('\n');
  expect(header).toMatch(/ LB Status HTTP Main DNS$/);
  expect(row).toMatch(/ 503 +yes$/);
});
