/**
 * The account structure of account-structures.md as a configuration file: a `state` account
 * holding a production and a non-production service identity, identical roles in every
 * account, and `n` team accounts alternating production / non-production.
 */
export interface StructureOptions {
  /** Team accounts besides `state`. */
  teams: number;
  /** Account ids start here (moto serves any 12-digit id). */
  firstId?: number;
  endpointRegion?: string;
  /** Extra YAML appended under `global:` (indented two spaces). */
  extraGlobal?: string;
}

export function teamName(i: number): string {
  return `team-${String(i).padStart(2, '0')}`;
}

export function accountId(first: number, i: number): string {
  return String(first + i).padStart(12, '0');
}

export function isProductionTeam(i: number): boolean {
  return i % 2 === 1;
}

export function structureYaml(options: StructureOptions): string {
  const first = options.firstId ?? 200000000000;
  const region = options.endpointRegion ?? 'eu-west-1';
  const nonProdRoles = Array.from({ length: options.teams }, (_, k) => k + 1)
    .filter((i) => !isProductionTeam(i))
    .map((i) => `'arn:aws:iam::{account_id:${teamName(i)}}:role/*'`);
  const teams = Array.from({ length: options.teams }, (_, k) => k + 1)
    .map(
      (i) => `  ${teamName(i)}:
    id: '${accountId(first, i)}'
    alias: 'myorg-{account_name}'
    environment: ${isProductionTeam(i) ? 'production' : 'non-production'}`,
    )
    .join('\n');
  return `version: 10
global:
  regions: [${region}]
  admin_account: state
  login_role: OrganizationAccountAccessRole
  environment: production
  saml_providers:
    Shibboleth: '<EntityDescriptor entityID="https://idp.example.org/shibboleth"/>'
  roles:
    Shibboleth-ReadOnly:
      policy: {Statement: [{Effect: Allow, Action: ['ec2:Describe*', 's3:List*'], Resource: '*'}]}
      assume_role_policy:
        Statement:
          - Effect: Allow
            Principal: {Federated: 'arn:aws:iam::{account_id}:saml-provider/Shibboleth'}
            Action: sts:AssumeRoleWithSAML
            Condition: {StringEquals: {'SAML:aud': 'https://signin.aws.amazon.com/saml'}}
    deployer:
      policy: {Statement: [{Effect: Allow, Action: ['cloudformation:*', 'ec2:*'], Resource: '*'}]}
      assume_role_policy:
        Statement:
          - Effect: Allow
            Principal: {AWS: 'arn:aws:iam::{account_id:state}:root'}
            Action: sts:AssumeRole
  s3_buckets:
    mint:
      name: 'exampleorg-stups-mint-{account_id}-{region}'
      regions: [${region}]
      policy:
        Statement:
          - Sid: AllowMintWrite
            Effect: Allow
            Principal: {AWS: 'arn:aws:iam::{account_id:state}:root'}
            Action: s3:PutObject
            Resource: 'arn:aws:s3:::{bucket_name}/*'
  vpc_net:
    ${region}: {cidr: 172.31.0.0/16}
${options.extraGlobal ?? ''}accounts:
  state:
    id: '${accountId(first, 0)}'
    service_identities:
      prod-service:
        environment: production
        policy: {Statement: [{Effect: Allow, Action: sts:AssumeRole, Resource: 'arn:aws:iam::*:role/deployer'}]}
      nonprod-service:
        environment: non-production
        policy: {Statement: [{Effect: Allow, Action: sts:AssumeRole, Resource: [${nonProdRoles.join(', ') || "'arn:aws:iam::000000000000:role/none'"}]}]}
${teams}
`;
}
