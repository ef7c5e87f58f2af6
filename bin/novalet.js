#!/usr/bin/env node
// No build step: tsx compiles the TypeScript sources on the fly.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
