#!/usr/bin/env node
// Part of the build: copies the demo's dense model from @hnet/fixtures into
// dist/models/, so that the published @hnet/cli carries it and `hnet demo`
// works from an installed package (fixtures/ itself is not published).
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(import.meta.resolve('@hnet/fixtures/mnist_mlp.onnx'));
const to = new URL('../dist/models/', import.meta.url);
mkdirSync(to, { recursive: true });
copyFileSync(from, new URL('mnist_mlp.onnx', to));
