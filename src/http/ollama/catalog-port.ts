/**
 * Adapts the catalog to the narrow port the Ollama routes use: Ollama names its operations
 * remove/copy/show where the catalog has delete/tag/get.
 */
import { capabilitiesOf, type Catalog } from '../../models/index.js';
import type { OllamaCatalogPort } from './deps.js';

export function ollamaCatalogPort(catalog: Catalog): OllamaCatalogPort {
  return {
    pull: (from, options) => catalog.pull(from, options),
    async remove(name) {
      const actions = await catalog.delete(name);
      const deleted = actions.find((action): action is { Deleted: string } => 'Deleted' in action);
      return { deletedId: deleted?.Deleted };
    },
    async copy(source, destination) {
      const target = catalog.parseReference(destination);
      await catalog.tag(source, `${target.registry}/${target.repository}`, target.tag);
    },
    async show(name) {
      const model = await catalog.get(name);
      return { model, capabilities: capabilitiesOf(model.config) };
    },
    extras: (name) => catalog.creator.extras(name),
    hasBlob: (digest) => catalog.creator.hasBlob(digest),
    receiveBlob: (upload) => catalog.creator.receiveBlob(upload),
    create: (name, request, options) => catalog.creator.create(name, request, { onEvent: options.onEvent }),
    push: (name, options) => catalog.push(name, options),
  };
}
