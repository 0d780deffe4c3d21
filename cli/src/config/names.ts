// Names shared with the hosts (see proto/tako/v1/app.proto): apps, environments and servers are
// 1-63 characters of [a-z0-9-], start with a letter and do not end with "-".

const NAME = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isValidName(value: string): boolean {
  return NAME.test(value);
}

/** Why `value` is not a valid name, in words, or undefined when it is. */
export function nameProblem(value: string, what: string): string | undefined {
  if (isValidName(value)) return undefined;
  return `${JSON.stringify(value)} is not a valid ${what}: use 1-63 lower-case letters, digits and "-", starting with a letter and not ending with "-"`;
}

/** A valid name close to `value` (for suggestions), or undefined when none can be made. */
export function suggestName(value: string): string | undefined {
  const slug = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return isValidName(slug) ? slug : undefined;
}

/** Environment variable names the CLI accepts for [vars] and secrets. */
export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names the platform sets itself; an app cannot override them. */
export function isReservedVar(name: string): boolean {
  return name === "ENV" || name === "PORT" || name === "HOST" || name.startsWith("TAKO_");
}
