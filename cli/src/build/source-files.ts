import { lstat, readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import ignore, { type Ignore } from "ignore";

// The app's source as the build copies it: every file and symlink under the app directory,
// minus what .gitignore files ignore (the app's own, nested ones, and those of an enclosing git
// repository down to the app), and never .git, .tako, node_modules or .env* (secrets live there).

const NEVER = new Set([".git", ".tako", "node_modules"]);

function isNever(name: string): boolean {
  return NEVER.has(name) || name === ".env" || name.startsWith(".env.");
}

interface Rules {
  /** Absolute directory the .gitignore sits in. */
  readonly base: string;
  readonly matcher: Ignore;
}

/** Source entries, relative to appDir with "/" separators, sorted. */
export async function sourceFiles(appDir: string, gitRoot: string | undefined): Promise<string[]> {
  const rules: Rules[] = [];
  if (gitRoot && gitRoot !== appDir) {
    // .gitignore files of the enclosing repository, from its root down to the app's parent.
    const dirs: string[] = [];
    for (let d = dirname(appDir); d.startsWith(gitRoot); d = dirname(d)) {
      dirs.unshift(d);
      if (d === gitRoot) break;
    }
    for (const d of dirs) {
      const r = await loadRules(d);
      if (r) rules.push(r);
    }
  }
  const out: string[] = [];
  await walk(appDir, "", rules, out);
  return out.sort();
}

async function loadRules(dir: string): Promise<Rules | undefined> {
  const text = await readFile(join(dir, ".gitignore"), "utf8").catch(() => undefined);
  return text === undefined ? undefined : { base: dir, matcher: ignore().add(text) };
}

function ignored(rules: readonly Rules[], absolute: string, isDir: boolean): boolean {
  let result = false;
  for (const r of rules) {
    // The entry as seen from the .gitignore's directory.
    const rel = relative(r.base, absolute).split(sep).join("/");
    if (rel.startsWith("..") || rel === "") continue;
    const test = r.matcher.test(isDir ? `${rel}/` : rel);
    if (test.ignored) result = true;
    else if (test.unignored) result = false;
  }
  return result;
}

async function walk(
  appDir: string,
  dir: string,
  parentRules: readonly Rules[],
  out: string[],
): Promise<void> {
  const own = await loadRules(join(appDir, dir));
  const rules = own ? [...parentRules, own] : parentRules;
  for (const name of (await readdir(join(appDir, dir))).sort()) {
    if (isNever(name)) continue;
    const path = dir ? `${dir}/${name}` : name;
    const absolute = join(appDir, path);
    const st = await lstat(absolute);
    if (st.isDirectory()) {
      if (!ignored(rules, absolute, true)) await walk(appDir, path, rules, out);
    } else if ((st.isFile() || st.isSymbolicLink()) && !ignored(rules, absolute, false)) {
      out.push(path);
    }
  }
}
