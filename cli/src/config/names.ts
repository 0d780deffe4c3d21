import { checkName, checkVariables } from "@tako/appspec";

// Names shared with the hosts (the rules live in @tako/appspec): apps, environments and servers
// are 1-63 characters of [a-z0-9-], start with a letter and do not end with "-".

export function isValidName(value: string): boolean {
  try {
    checkName("app", value);
    return true;
  } catch {
    return false;
  }
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

/**
 * What is wrong with one variable (a [vars] entry or a secret) by the hosts' rules, or undefined.
 * Vars may not use the names Tako sets itself; secrets may.
 */
export function variableProblem(kind: "vars" | "secrets", name: string, value: string): string | undefined {
  try {
    checkVariables(kind, { [name]: value });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
