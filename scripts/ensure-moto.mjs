#!/usr/bin/env node
/**
 * Makes sure moto's server (the EventBridge emulator of the tests) is installed in a Python
 * virtual environment at <repo>/.venv/moto. Idempotent: when the pinned version is already there
 * it only checks and returns. Needs python3 (3.9 or newer, with its venv module) on the PATH.
 *
 * Run directly (`node scripts/ensure-moto.mjs`), or as a vitest globalSetup (default export).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const MOTO_VERSION = "5.2.5";
const REQUIREMENT = `moto[server]==${MOTO_VERSION}`;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const MOTO_VENV = path.join(REPO_ROOT, ".venv", "moto");
const BIN = process.platform === "win32" ? "Scripts" : "bin";
const EXE = process.platform === "win32" ? ".exe" : "";
const VENV_PYTHON = path.join(MOTO_VENV, BIN, `python${EXE}`);
export const MOTO_SERVER = path.join(MOTO_VENV, BIN, `moto_server${EXE}`);
// Written after a complete install: a pip run cut short leaves a venv without it.
const MARKER = path.join(MOTO_VENV, "trailrouter-requirement.txt");

const log = (message) => console.log(`[ensure-moto] ${message}`);

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: "utf8", ...options });
}

/** The moto version installed in the venv, or undefined when it is absent or incomplete. */
function installedMotoVersion() {
  if (!existsSync(VENV_PYTHON) || !existsSync(MOTO_SERVER) || !existsSync(MARKER)) return undefined;
  if (readFileSync(MARKER, "utf8").trim() !== REQUIREMENT) return undefined;
  const probe = run(VENV_PYTHON, ["-c", "from importlib.metadata import version; print(version('moto'))"]);
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/** A python3 of at least 3.9 (moto's minimum) on the PATH, or an error saying what to install. */
function findPython() {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ["python3", "python"];
  for (const candidate of candidates) {
    const probe = run(candidate, [
      "-c",
      "import sys; print('%d.%d' % sys.version_info[:2]); sys.exit(0 if sys.version_info >= (3, 9) else 1)",
    ]);
    if (probe.status === 0) return { command: candidate, version: probe.stdout.trim() };
    if (probe.status === 1) log(`${candidate} is Python ${probe.stdout.trim()}; moto needs 3.9 or newer`);
  }
  throw new Error(
    "Python 3.9 or newer is needed to run moto, the EventBridge emulator of the tests, and none was found " +
      "(tried: " +
      candidates.join(", ") +
      "). Install python3 with its venv module (Debian/Ubuntu: apt-get install python3 python3-venv; " +
      "macOS: brew install python), or point PYTHON at one.",
  );
}

function check(result, what) {
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
    throw new Error(`${what} failed (exit ${result.status})${output ? `:\n${output}` : ""}`);
  }
}

/** Install moto in the venv unless the pinned version is already there. Returns moto_server's path. */
export function ensureMoto() {
  const installed = installedMotoVersion();
  if (installed === MOTO_VERSION) {
    log(`moto ${installed} present in ${path.relative(process.cwd(), MOTO_VENV) || MOTO_VENV}`);
    return MOTO_SERVER;
  }
  const python = findPython();
  if (!existsSync(VENV_PYTHON) || run(VENV_PYTHON, ["-c", ""]).status !== 0) {
    log(`creating a virtual environment at ${MOTO_VENV} with ${python.command} (Python ${python.version})`);
    rmSync(MOTO_VENV, { recursive: true, force: true });
    const created = run(python.command, ["-m", "venv", MOTO_VENV]);
    if (created.status !== 0) {
      const output = `${created.stdout ?? ""}${created.stderr ?? ""}`;
      const hint = /ensurepip|venv/.test(output)
        ? " (the venv module is missing: Debian/Ubuntu: apt-get install python3-venv)"
        : "";
      check(created, `${python.command} -m venv${hint}`);
    }
  }
  log(`installing ${REQUIREMENT}${installed ? ` (found moto ${installed})` : ""}`);
  rmSync(MARKER, { force: true });
  check(
    run(
      VENV_PYTHON,
      [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        REQUIREMENT,
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    ),
    `pip install ${REQUIREMENT}`,
  );
  writeFileSync(MARKER, `${REQUIREMENT}\n`);
  const now = installedMotoVersion();
  if (now !== MOTO_VERSION)
    throw new Error(`after pip install, moto is ${now ?? "missing"}, not ${MOTO_VERSION}`);
  log(`moto ${now} installed`);
  return MOTO_SERVER;
}

/** vitest globalSetup: once per test run, before any test file. */
export default function setup() {
  ensureMoto();
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    ensureMoto();
  } catch (error) {
    console.error(`[ensure-moto] ${error.message}`);
    process.exit(1);
  }
}
