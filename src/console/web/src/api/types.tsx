/* The wire shapes the console reads; they follow the services' contracts (src/<service>/contract.ts). */

export interface Application {
  id: string;
  team_id: string;
  active: boolean;
  name: string;
  subtitle: string | null;
  description: string | null;
  service_url: string | null;
  scm_url: string | null;
  documentation_url: string | null;
  specification_url: string | null;
  support_url: string | null;
  specification_type: string | null;
  criticality_level: number;
  publicly_accessible: boolean;
  incident_contact: string | null;
  created: string;
  created_by: string;
  last_modified: string;
  last_modified_by: string;
  required_approvers?: number;
  matched_rank?: number;
  matched_description?: string;
}

export interface ApplicationChange {
  id: string;
  application_id: string;
  action: 'create' | 'update';
  changed_at: string;
  changed_by: string;
  changed_by_realm: string | null;
  changes: Record<string, { old: unknown; new: unknown }>;
}

export interface Team {
  id: string;
  name: string;
  type?: string;
  description?: string | null;
}

export interface UserInfo {
  sub: string;
  name?: string;
  email?: string;
  preferred_username?: string;
}

export interface Tag {
  name: string;
  created: string;
  created_by: string;
  image: string;
  scm_source_present?: boolean;
  incident_id?: string;
}

export interface ScmSource {
  url: string;
  revision: string;
  author: string;
  status: string;
  created: string;
}

export interface ResourceTypeSummary {
  id: string;
  name: string;
}

export interface ResourceType {
  id: string;
  name: string;
  description: string | null;
  resource_owners: string[];
}

export interface Scope {
  id: string;
  resource_type_id: string;
  summary: string;
  description: string | null;
  user_information: string | null;
  is_resource_owner_scope: boolean;
  criticality_level: number;
}
