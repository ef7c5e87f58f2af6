/** TypeBox string formats used by the schemas (TypeBox ships none by default). */
import { FormatRegistry } from '@sinclair/typebox';
import { isIPv4, isIPv6 } from 'node:net';

if (!FormatRegistry.Has('ipv4')) FormatRegistry.Set('ipv4', (v) => isIPv4(v));
if (!FormatRegistry.Has('ipv6')) FormatRegistry.Set('ipv6', (v) => isIPv6(v));
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(v));

export {};
