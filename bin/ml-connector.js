#!/usr/bin/env node
// Entry point: registers tsx so the TypeScript sources run without a build step, then starts the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
