#!/usr/bin/env node
// Thin launcher so the bin link exists before the first build; the CLI is compiled TypeScript.
import "../dist/src/main.js";
