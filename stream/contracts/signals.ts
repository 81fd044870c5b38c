/**
 * The monitoring lead among a recording's lead names (DESIGN.md): MLII where it is named
 * (record 114 stores it second), otherwise the first. Records and live frames both use it.
 */
export function monitoringLeadOf(names: readonly string[]): number {
  const index = names.findIndex((name) => name.trim().toUpperCase() === 'MLII');
  return index === -1 ? 0 : index;
}

/** The first lead other than the monitoring one, if there are two or more. */
export function secondLeadOf(names: readonly string[]): number | undefined {
  const monitoring = monitoringLeadOf(names);
  const index = names.findIndex((_, i) => i !== monitoring);
  return index === -1 ? undefined : index;
}
