import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { encodeRawArchive } from "@tako/artifact";

/** A package the fake registry serves: one version, a package.json and an index.js. */
export interface FakePackage {
  readonly name: string;
  readonly version: string;
}

/**
 * A local npm registry that serves a few tiny packages and records every request, to prove what
 * a production install asks for. Loopback only.
 */
export interface FakeRegistry {
  readonly url: string;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  tarballUrl(pkg: FakePackage): string;
  integrity(pkg: FakePackage): string;
  close(): Promise<void>;
}

export async function startFakeRegistry(packages: readonly FakePackage[]): Promise<FakeRegistry> {
  const tarballs = new Map<string, Buffer>();
  for (const p of packages) {
    tarballs.set(
      `${p.name}-${p.version}.tgz`,
      encodeRawArchive([
        {
          header: { path: "package/package.json" },
          body: JSON.stringify({ name: p.name, version: p.version, main: "index.js" }),
        },
        { header: { path: "package/index.js" }, body: `module.exports = ${JSON.stringify(p.name)};\n` },
      ]),
    );
  }
  const requests: string[] = [];
  let base = "";
  const tarballUrl = (p: FakePackage) => `${base}/${p.name}/-/${p.name}-${p.version}.tgz`;
  const integrity = (p: FakePackage) =>
    `sha512-${createHash("sha512")
      .update(tarballs.get(`${p.name}-${p.version}.tgz`) ?? "")
      .digest("base64")}`;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/");
    requests.push(path);
    const tgz = /^\/[^/]+\/-\/(.+\.tgz)$/.exec(path);
    if (tgz?.[1] && tarballs.has(tgz[1])) {
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(tarballs.get(tgz[1]));
      return;
    }
    const pkg = packages.find((p) => `/${p.name}` === path);
    if (pkg) {
      const doc = {
        name: pkg.name,
        "dist-tags": { latest: pkg.version },
        versions: {
          [pkg.version]: {
            name: pkg.name,
            version: pkg.version,
            dist: { tarball: tarballUrl(pkg), integrity: integrity(pkg) },
          },
        },
      };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return {
    url: base,
    requests,
    tarballUrl,
    integrity,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
