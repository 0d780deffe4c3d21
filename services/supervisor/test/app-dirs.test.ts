// The directories an app's processes need, as a root supervisor prepares them: a host root the
// app's user cannot reach (a parent directory others cannot search) is refused with a clear
// reason instead of starting processes that fail with "Cannot find module"; once the parent is
// searchable, the app's directories get their owners and modes.
import assert from "node:assert/strict";
import { chmod, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { hostPaths } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { makeTempRoot, type TempRoot } from "@tako/testkit";
import { appDirs, prepareAppDirs } from "../src/spawn/app-dirs.js";

const NOBODY = { user: "nobody", uid: 65534, gid: 65534 };

let temp: TempRoot;
before(async () => {
  temp = await makeTempRoot("appdirs"); // mkdtemp: 0700
});
after(() => temp?.cleanup());

test("a host root under a directory other users cannot search is refused, naming that directory", async () => {
  const paths = hostPaths(join(temp.root, "host"));
  const dirs = appDirs(paths, "web", "production");
  await assert.rejects(prepareAppDirs(paths, dirs, NOBODY), (err: unknown) => {
    assert.ok(TakoError.is(err, "HOST_ROOT_UNREACHABLE"), String(err));
    assert.equal(
      err.message,
      `the app's user nobody cannot reach the host root ${paths.root}: ${temp.root} is not searchable by other users (mode 0700)`,
    );
    return true;
  });
  assert.equal((await stat(temp.root)).mode & 0o777, 0o700, "nothing above the root was changed");

  await chmod(temp.root, 0o711);
  await prepareAppDirs(paths, dirs, NOBODY);
  const data = await stat(dirs.dataDir);
  assert.deepEqual([data.uid, data.mode & 0o777], [NOBODY.uid, 0o750]);
  assert.equal((await stat(paths.root)).mode & 0o001, 0o001, "the root itself became searchable");
});
