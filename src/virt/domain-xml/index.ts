export { buildDomainXml, cephSecretXml, diskXml, nicXml } from './build.js';
export {
  domainSpecFromXml, isNovaletDomain, parseDisks, parseDomainXml, parseNics, parseNovaletMetadata,
  type NovaletMetadata, type ParsedDisk, type ParsedDomain, type ParsedNic,
} from './parse.js';
export { diskAlias, nicAlias, parseDiskAlias, parseNicAlias, NOVALET_XMLNS } from './names.js';
export { setDiskSource } from './edit.js';
export { normalizeDomainSpec } from './normalize.js';
export { xmlEscape, xmlUnescape } from './xml.js';
