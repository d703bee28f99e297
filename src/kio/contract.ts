/**
 * How other components (Pier One, mint, fullstop, the console) ask Kio about applications.
 * The full HTTP contract (schemas) lives beside this interface.
 */
export interface ApplicationSummary {
  id: string;
  team_id: string;
  active: boolean;
  name: string;
}

export interface ApplicationDirectory {
  getApplication(id: string): Promise<ApplicationSummary | undefined>;
}
