import Mustache from 'mustache';

/** A `senza init` template: its questions (name, prompt, default) and the definition it renders. */
export interface InitTemplate {
  description: string;
  questions: {
    name: string;
    prompt: string;
    default: string;
    pattern?: RegExp;
    /** The default is the application's image in Pier One when there is one (see init-image.ts). */
    fromPierOne?: true;
  }[];
  /** Security groups to check or create: name suffix and TCP ports open to the world. */
  securityGroups: (vars: Record<string, string>) => { name: string; ports: number[]; fromSelf?: boolean }[];
  yaml: string;
}

const APP_ID = /^[a-zA-Z][-a-zA-Z0-9]*$/;

const WEBAPP = `# basic information for generating and executing this definition
SenzaInfo:
  StackName: {{application_id}}
  Parameters:
    - ImageVersion:
        Description: "Docker image version of {{application_id}}."

# a list of senza components to apply to the definition
SenzaComponents:

  # this basic configuration is required for the other components
  - Configuration:
      Type: Senza::StupsAutoConfiguration # auto-detect network setup

  # will create a launch configuration and auto scaling group with scaling triggers
  - AppServer:
      Type: Senza::TaupageAutoScalingGroup
      InstanceType: {{instance_type}}
      SecurityGroups:
        - app-{{application_id}}
      IamRoles:
        - app-{{application_id}}
      ElasticLoadBalancer: AppLoadBalancer
      AssociatePublicIpAddress: false # change for standalone deployment in default VPC
      TaupageConfig:
        application_version: "{{=<% %>=}}{{Arguments.ImageVersion}}<%={{ }}=%>"
        runtime: Docker
        source: "{{docker_image}}:{{=<% %>=}}{{Arguments.ImageVersion}}<%={{ }}=%>"
        health_check_path: {{http_health_check_path}}
        ports:
          {{http_port}}: {{http_port}}
{{#mint_bucket}}
        mint_bucket: "{{mint_bucket}}"
{{/mint_bucket}}

  # creates an ELB entry and Route53 domains to this ELB
  - AppLoadBalancer:
      Type: Senza::WeightedDnsElasticLoadBalancer
      HTTPPort: {{http_port}}
      HealthCheckPath: {{http_health_check_path}}
      SecurityGroups:
        - app-{{application_id}}-lb
      Scheme: {{loadbalancer_scheme}}
`;

const BGAPP = `# basic information for generating and executing this definition
SenzaInfo:
  StackName: {{application_id}}
  Parameters:
    - ImageVersion:
        Description: "Docker image version of {{application_id}}."

# a list of senza components to apply to the definition
SenzaComponents:
  - Configuration:
      Type: Senza::StupsAutoConfiguration # auto-detect network setup

  # a single EC2 instance running the background app
  - AppServer:
      Type: Senza::TaupageAutoScalingGroup
      InstanceType: {{instance_type}}
      SecurityGroups:
        - app-{{application_id}}
      IamRoles:
        - app-{{application_id}}
      AssociatePublicIpAddress: false # change for standalone deployment in default VPC
      TaupageConfig:
        application_version: "{{=<% %>=}}{{Arguments.ImageVersion}}<%={{ }}=%>"
        runtime: Docker
        source: "{{docker_image}}:{{=<% %>=}}{{Arguments.ImageVersion}}<%={{ }}=%>"
{{#mint_bucket}}
        mint_bucket: "{{mint_bucket}}"
{{/mint_bucket}}
`;

const POSTGRESAPP = `# HA PostgreSQL (Spilo) with WAL files archived in S3
SenzaInfo:
  StackName: {{application_id}}
  Parameters:
    - ImageVersion:
        Description: "Docker image version of Spilo."
        Default: "{{docker_version}}"

SenzaComponents:
  - Configuration:
      Type: Senza::StupsAutoConfiguration

  - AppServer:
      Type: Senza::TaupageAutoScalingGroup
      InstanceType: {{instance_type}}
      SecurityGroups:
        - app-{{application_id}}
      IamRoles:
        - app-{{application_id}}
      ElasticLoadBalancer: PostgresLoadBalancer
      HealthCheckType: EC2
      AssociatePublicIpAddress: false
      AutoScaling:
        Minimum: 3
        Maximum: 3
        SuccessRequires: "3 within 20m"
      # One new EBS volume per instance, created and deleted with it (as the original template):
      # Spilo replicates the data itself, so no volume outlives or is shared between instances.
      BlockDeviceMappings:
        - DeviceName: /dev/xvdk
          Ebs:
            VolumeSize: {{volume_size}}
            VolumeType: gp3
            DeleteOnTermination: true
      TaupageConfig:
        application_version: "{{=<% %>=}}{{Arguments.ImageVersion}}<%={{ }}=%>"
        runtime: Docker
        source: "{{docker_image}}:{{=<% %>=}}{{Arguments.ImageVersion}}<%={{ }}=%>"
        ports:
          5432: 5432
          8008: 8008
        root: true
        # Patroni finds its peers through etcd's DNS discovery.
        etcd_discovery_domain: "{{discovery_domain}}"
        environment:
          # Each stack version is a cluster of its own, with its own WAL archive path.
          SCOPE: "{{application_id}}-{{=<% %>=}}{{Arguments.version}}<%={{ }}=%>"
          ETCD_DISCOVERY_DOMAIN: "{{discovery_domain}}"
          WAL_S3_BUCKET: "{{wal_s3_bucket}}"
        mounts:
          /home/postgres/pgdata:
            partition: /dev/xvdk
            filesystem: ext4
            erase_on_boot: true
            options: noatime,nodiratime

  - PostgresLoadBalancer:
      Type: Senza::ElasticLoadBalancer
      HTTPPort: 8008
      # Patroni answers 200 on /master only on the leader: the load balancer sends to the primary.
      HealthCheckPath: /master
      HealthCheckProtocol: HTTP
      SecurityGroups:
        - app-{{application_id}}
      Scheme: internal
      Listeners:
        - Protocol: TCP
          InstancePort: 5432
          LoadBalancerPort: 5432
      Domains:
        MainDomain:
          Type: standalone
          Zone: "{{hosted_zone}}"
          Subdomain: "{{application_id}}"
`;

export const INIT_TEMPLATES: Record<string, InitTemplate> = {
  bgapp: {
    description: 'Background app with single EC2 instance',
    questions: [
      { name: 'application_id', prompt: 'Application ID', default: 'hello-world', pattern: APP_ID },
      {
        name: 'docker_image',
        prompt: 'Docker image without tag/version (e.g. "pierone.example.org/myteam/myapp")',
        default: 'stups/hello-world',
        fromPierOne: true,
      },
      { name: 'instance_type', prompt: 'EC2 instance type', default: 't2.micro' },
      { name: 'mint_bucket', prompt: 'Mint S3 bucket name (empty: none)', default: '' },
    ],
    securityGroups: (v) => [{ name: `app-${v.application_id}`, ports: [22], fromSelf: true }],
    yaml: BGAPP,
  },
  postgresapp: {
    description: 'HA Postgres app, which needs an S3 bucket to store WAL files',
    questions: [
      { name: 'application_id', prompt: 'Application ID', default: 'spilo', pattern: APP_ID },
      {
        name: 'docker_image',
        prompt: 'Docker image without tag/version',
        default: 'registry.opensource.zalan.do/acid/spilo-15',
      },
      { name: 'docker_version', prompt: 'Docker image version', default: '3.0-p1' },
      { name: 'instance_type', prompt: 'EC2 instance type', default: 't2.medium' },
      { name: 'volume_size', prompt: 'EBS volume size in GB', default: '10', pattern: /^\d+$/ },
      { name: 'wal_s3_bucket', prompt: 'S3 bucket for WAL files', default: 'my-wal-bucket' },
      { name: 'hosted_zone', prompt: 'Route53 hosted zone for the database domain', default: 'example.org' },
      {
        name: 'discovery_domain',
        prompt: 'etcd discovery domain (DNS SRV records of the etcd cluster)',
        default: 'postgres.example.org',
      },
    ],
    securityGroups: (v) => [{ name: `app-${v.application_id}`, ports: [22, 5432, 8008], fromSelf: true }],
    yaml: POSTGRESAPP,
  },
  webapp: {
    description: 'HTTP app with auto scaling, ELB and DNS',
    questions: [
      { name: 'application_id', prompt: 'Application ID', default: 'hello-world', pattern: APP_ID },
      {
        name: 'docker_image',
        prompt: 'Docker image without tag/version (e.g. "pierone.example.org/myteam/myapp")',
        default: 'stups/hello-world',
        fromPierOne: true,
      },
      { name: 'http_port', prompt: 'HTTP port', default: '8080', pattern: /^\d+$/ },
      { name: 'http_health_check_path', prompt: 'HTTP health check path', default: '/' },
      { name: 'instance_type', prompt: 'EC2 instance type', default: 't2.micro' },
      { name: 'mint_bucket', prompt: 'Mint S3 bucket name (empty: none)', default: '' },
      {
        name: 'loadbalancer_scheme',
        prompt: 'Load balancer scheme (internal or internet-facing)',
        default: 'internal',
        pattern: /^(internal|internet-facing)$/,
      },
    ],
    securityGroups: (v) => [
      { name: `app-${v.application_id}`, ports: [22, Number(v.http_port)], fromSelf: true },
      { name: `app-${v.application_id}-lb`, ports: [443] },
    ],
    yaml: WEBAPP,
  },
};

export function renderInitTemplate(template: InitTemplate, vars: Record<string, string>): string {
  return Mustache.render(template.yaml, { ...vars, mint_bucket: vars.mint_bucket || undefined }, undefined, {
    escape: (s: string) => s,
  });
}
