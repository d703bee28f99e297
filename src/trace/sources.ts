import type { StoredAttestation } from '../pierone/provenance/directory.js';
import type { Jwks } from '../pierone/provenance/verify.js';

/**
 * What the walk reads, from wherever it lives (the CLI: the services' HTTP APIs and EC2). Each
 * lookup answers `undefined` for "not there" (a broken link); anything else that fails (network,
 * refused) throws and ends the trace as an error, not as a broken chain.
 */
export interface TraceSources {
  instance(instanceId: string): Promise<InstanceFacts | undefined>;
  /** The team owning an AWS account (the team service); undefined when none does or none is configured. */
  teamOfAccount(account: string): Promise<string | undefined>;
  /** Instances of a Senza stack (EC2 tags StackName and StackVersion). */
  stackInstances(name: string, version: string): Promise<string[]>;
  /** A tag of an image in Pier One. */
  tag(team: string, artifact: string, tag: string): Promise<ImageFacts | undefined>;
  /** Tags of an artifact, oldest first; empty when there are none. */
  tags(team: string, artifact: string): Promise<string[]>;
  /** Which tags carry an image id or manifest digest. */
  tagsOfDigest(digest: string): Promise<Array<{ team: string; artifact: string; tag: string }>>;
  scmSource(team: string, artifact: string, tag: string): Promise<ScmSourceFacts | undefined>;
  attestations(team: string, artifact: string, manifestDigest: string): Promise<StoredAttestation[]>;
  jwks(): Promise<Jwks>;
  application(id: string): Promise<ApplicationFacts | undefined>;
  /** Violations of an application or an instance not yet resolved (fullstop: not checked). */
  openViolations(scope: ViolationScope): Promise<ViolationFacts[]>;
  /** The message of a commit, or undefined when the repository cannot be read. */
  commitMessage(repository: string, revision: string): Promise<string | undefined>;
  /** An AMI as the instance's account sees it; undefined when it cannot (deregistered, not shared). */
  ami(imageId: string): Promise<AmiFacts | undefined>;
  /** The newest available AMI whose name is `channel-<build time>`, made by one of `owners`. */
  newestAmiOfChannel(channel: string, owners: string[]): Promise<AmiFacts | undefined>;
  /** Senza stacks (CloudFormation, tags StackName/StackVersion) whose Taupage config runs the app. */
  deployments(applicationId: string): Promise<DeploymentFacts[]>;
  /** even access requests that let someone onto one of `hosts` (as remote host or bastion). */
  accessGrants(hosts: string[]): Promise<AccessGrantFacts[]>;
  /** Open fullstop SSH_LOGIN_WITHOUT_GRANT violations of an instance. */
  loginsWithoutGrant(account: string | undefined, instanceId: string): Promise<LoginFacts[]>;
  /** Violations of an application or an instance that an active risk acceptance covers. */
  acceptedViolations(scope: ViolationScope): Promise<ViolationFacts[]>;
  riskAcceptance(id: number): Promise<RiskAcceptanceFacts | undefined>;
}

/**
 * Whose violations: an application's, or one instance's. An instance is asked by its id, since
 * the CloudTrail rules (WRONG_AMI, EC2_WITH_KEYPAIR, …) know the instance but not its application.
 */
export type ViolationScope = { applicationId: string } | { instanceId: string; account: string | undefined };

export interface AmiFacts {
  id: string;
  name: string;
  ownerId: string;
  created: string | undefined;
}

export interface DeploymentFacts {
  /** `<StackName>-<StackVersion>`. */
  stack: string;
  status: string;
  /** The image the Taupage config runs (`source`) and its `application_version`. */
  source: string | undefined;
  applicationVersion: string | undefined;
  /** Traffic in percent from the weighted Route53 records; null: the stack has none. */
  trafficPercent: number | null;
}

export interface AccessGrantFacts {
  id: number;
  username: string;
  hostname: string;
  remoteHost: string | null;
  reason: string;
  status: string;
  created: string;
  expiresAt: string | null;
}

export interface LoginFacts {
  violationId: number;
  username: string;
  at: string;
  from: string;
}

export interface RiskAcceptanceFacts {
  id: number;
  reason: string;
  team: string;
  createdBy: string;
  expires: string;
}

export interface InstanceFacts {
  id: string;
  account: string | undefined;
  region: string | undefined;
  launchTime: string | undefined;
  ami: string | undefined;
  state: string | undefined;
  /** The instance's user data, decoded (Taupage: YAML), or undefined when it has none. */
  userData: string | undefined;
  /** What even grants name it by besides its id (`piu` takes the private address). */
  privateIp?: string | undefined;
  privateDnsName?: string | undefined;
}

export interface ImageFacts {
  team: string;
  artifact: string;
  tag: string;
  /** The image id (config digest). */
  image: string;
  /** The manifest digest (what provenance is about), when the registry told it. */
  manifestDigest: string | undefined;
  created: string;
  createdBy: string;
}

export interface ScmSourceFacts {
  url: string;
  revision: string;
  author: string;
  /** `git status --porcelain` at build time: empty means a clean build. */
  status: string;
}

export interface ApplicationFacts {
  id: string;
  team: string;
  active: boolean;
  criticality: number;
  specificationUrl: string | null;
}

export interface ViolationFacts {
  id: number;
  type: string;
  instanceId: string | null;
  created: string;
  /** The risk acceptance covering it, if any. */
  acceptanceId?: number | null;
}
