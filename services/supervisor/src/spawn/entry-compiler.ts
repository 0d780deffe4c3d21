import { chmod, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { TakoError } from "@tako/errors";
import type { Plugin } from "esbuild";
import { runEsbuild } from "./esbuild-runner.js";

const TS_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".tsx"]);

/** Where the compiled form of a TypeScript entry lives: `.tako/build/<main>.mjs` in the release. */
export function compiledEntryPath(releaseDir: string, main: string): string {
  return join(releaseDir, ".tako/build", `${main.slice(0, -extname(main).length)}.mjs`);
}

export function isTypeScript(main: string): boolean {
  return TS_EXTENSIONS.has(extname(main));
}

/**
 * Keeps `import.meta.url`, `import.meta.dirname` and `import.meta.filename` pointing at each
 * source file, not at the bundle, so paths computed from them (`new URL("../public", import.meta.url)`)
 * resolve as they did in the source tree.
 */
const importMetaPlugin: Plugin = {
  name: "tako-import-meta",
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const contents = source
        .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path)))
        .replaceAll("import.meta.filename", JSON.stringify(args.path));
      const ext = extname(args.path);
      const loader = ext === ".tsx" ? "tsx" : ext === ".jsx" ? "jsx" : TS_EXTENSIONS.has(ext) ? "ts" : "js";
      return { contents, loader };
    });
  },
};

/**
 * Resolves the module the SDK entrypoint imports. JavaScript runs as is. TypeScript is compiled
 * once per release, ahead of the first spawn, with esbuild: the entry and its local imports are
 * bundled into one ES module (packages stay external and load from the release's
 * node_modules), so every cold start runs plain JS with no loader hook. Releases are immutable,
 * so an existing compiled file is reused. Compilation errors fail the release with esbuild's
 * messages (file:line: text).
 */
export async function prepareEntry(releaseDir: string, main: string): Promise<string> {
  const source = join(releaseDir, main);
  if (!isTypeScript(main)) return source;
  const out = compiledEntryPath(releaseDir, main);
  if (
    await stat(out).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    return out;
  let files: Awaited<ReturnType<typeof runEsbuild>>;
  try {
    files = await runEsbuild({
      entryPoints: [source],
      absWorkingDir: releaseDir,
      bundle: true,
      packages: "external",
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: out,
      sourcemap: "linked",
      logLevel: "silent",
      plugins: [importMetaPlugin],
    });
  } catch (err) {
    const errors =
      (err as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    const detail = errors
      .slice(0, 5)
      .map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text))
      .join("\n");
    throw new TakoError("RELEASE_INVALID", `cannot compile ${main}:\n${detail || (err as Error).message}`);
  }
  await mkdir(dirname(out), { recursive: true, mode: 0o755 });
  // Written under temporary names and renamed, so a concurrent spawn never runs half a file.
  const suffix = `.${process.pid}.tmp`;
  for (const file of files) {
    await writeFile(`${file.path}${suffix}`, file.contents, { mode: 0o644 });
    await chmod(`${file.path}${suffix}`, 0o644);
  }
  for (const file of files.filter((f) => f.path !== out)) await rename(`${file.path}${suffix}`, file.path);
  await rename(`${out}${suffix}`, out);
  return out;
}
