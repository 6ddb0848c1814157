// Runs pi2mqtt firmware modules and their tests under real MicroPython (WebAssembly) on Node.js.
//
// usage: node run.mjs REPO_ROOT (--import MODULE ... | TEST_MODULE ...)
//   Copies firmware/p2mfw, hwsim/{__init__,i2c}.py, hwsim/chips and tests/firmware into the
//   MicroPython filesystem under /lib, then either imports each MODULE, or imports each
//   TEST_MODULE (e.g. fwtests.test_cobs) and calls every test_* function in it; a test after
//   which a simulated chip holds a datasheet violation (hwsim.chips.datasheet) fails.
//   Prints one line per test and a closing "N passed, N failed"; exits 1 on any failure.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "node:fs";
import path from "node:path";

const [root, ...args] = process.argv.slice(2);
if (!root || args.length === 0) {
  console.error("usage: node run.mjs REPO_ROOT (--import MODULE ... | TEST_MODULE ...)");
  process.exit(2);
}
const mp = await loadMicroPython({
  heapsize: 64 * 1024 * 1024,
  stdout: (s) => process.stdout.write(s + "\n"),
  stderr: (s) => process.stderr.write(s + "\n"),
});

function mkdirs(p) {
  let cur = "";
  for (const part of p.split("/").filter(Boolean)) {
    cur += "/" + part;
    try { mp.FS.mkdir(cur); } catch (e) { /* exists */ }
  }
}
function copyDir(src, dst, only) {
  if (!fs.existsSync(src)) return;
  mkdirs(dst);
  for (const name of fs.readdirSync(src)) {
    if (!name.endsWith(".py")) continue;
    if (only && !only.includes(name)) continue;
    mp.FS.writeFile(dst + "/" + name, fs.readFileSync(path.join(src, name)));
  }
}
copyDir(path.join(root, "firmware/p2mfw"), "/lib/p2mfw");
copyDir(path.join(root, "hwsim"), "/lib/hwsim", ["__init__.py", "i2c.py"]);
copyDir(path.join(root, "hwsim/chips"), "/lib/hwsim/chips");
copyDir(path.join(root, "tests/firmware"), "/lib/fwtests");
if (!fs.existsSync(path.join(root, "tests/firmware/__init__.py"))) {
  mp.FS.writeFile("/lib/fwtests/__init__.py", "");
}

const importMode = args[0] === "--import";
const modules = importMode ? args.slice(1) : args;
const runner = `
import sys
_passed = 0
_failed = 0
def _run(modname, import_only):
    global _passed, _failed
    try:
        mod = __import__(modname, None, None, ["*"])
    except Exception as e:
        _failed += 1
        print("FAIL import", modname + ":", repr(e))
        sys.print_exception(e)
        return
    if import_only:
        _passed += 1
        print("PASS import", modname)
        return
    for name in sorted(dir(mod)):
        if not name.startswith("test_"):
            continue
        fn = getattr(mod, name)
        if not callable(fn):
            continue
        try:
            from hwsim.chips import datasheet
            datasheet.reset()
            fn()
            found = datasheet.pending()
            datasheet.reset()
            if found:  # as tests/conftest.py: a datasheet violation fails the test
                raise AssertionError("datasheet violations: " + "; ".join(found[:10]))
            _passed += 1
            print("PASS", modname + "." + name)
        except Exception as e:
            _failed += 1
            print("FAIL", modname + "." + name + ":", repr(e))
            sys.print_exception(e)
`;
try {
  mp.runPython(runner);
  for (const m of modules) {
    mp.runPython(`_run(${JSON.stringify(m)}, ${importMode ? "True" : "False"})`);
  }
  mp.runPython(`print("micropython: %d passed, %d failed" % (_passed, _failed))`);
  const failed = Number(mp.globals.get("_failed"));
  process.exit(failed === 0 ? 0 : 1);
} catch (e) {
  console.error("runner crashed:", e);
  process.exit(3);
}
