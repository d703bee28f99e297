/**
 * Real parts the tests talk to that a developer machine may lack. Without them a test skips
 * with a warning; CI sets `STUPS_REQUIRE` to all of TEST_PARTS (see `.ci/run`)
 * so that a missing part fails the run instead of silently passing it by.
 */
export const TEST_PARTS = [
  'postgres',
  'sshd',
  'chromium',
  'skopeo',
  'moto_server',
  'cfn-lint',
  'helm',
  'haproxy',
  'podman',
] as const;
export type TestPart = (typeof TEST_PARTS)[number];

/** The parts `STUPS_REQUIRE` names; an unknown name is an error, so a typo cannot disable the switch. */
export function requiredParts(value: string | undefined = process.env.STUPS_REQUIRE): Set<TestPart> {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(TEST_PARTS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `STUPS_REQUIRE names unknown parts: ${unknown.join(', ')} (known: ${TEST_PARTS.join(', ')})`,
    );
  }
  return new Set(names as TestPart[]);
}

/**
 * Whether tests needing `part` must skip: false when it is available (`missing` undefined).
 * When it is missing and `STUPS_REQUIRE` names it, throws, which fails the test file; otherwise
 * warns once with the reason and answers true.
 */
export function skipWithout(
  part: TestPart,
  missing: string | undefined,
  env = process.env.STUPS_REQUIRE,
): boolean {
  if (missing === undefined) return false;
  if (requiredParts(env).has(part)) {
    throw new Error(`${part} is required (STUPS_REQUIRE=${env ?? ''}) but missing: ${missing}`);
  }
  console.warn(`SKIPPING tests that need ${part}: ${missing}`);
  return true;
}
