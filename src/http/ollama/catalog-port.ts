/**
 * Adapts the model service and the catalog to the narrow port the Ollama routes use: Ollama
 * names its operations remove/copy/show where they have delete/tag/get. What happens is the
 * service's policy, shared with the Docker routes; only Ollama's renderings live here.
 */
import { AppError } from '../../errors.js';
import type { Catalog, ModelService } from '../../models/index.js';
import type { OllamaCatalogPort } from './deps.js';

export function ollamaCatalogPort(catalog: Catalog, models: ModelService): OllamaCatalogPort {
  return {
    pull: (from, options) => catalog.pull(from, options),
    async remove(name) {
      // Ollama's API has no force: a model serving requests is a 409, as Docker's unforced delete.
      const { deletedId } = await models.delete(name);
      return deletedId === undefined ? {} : { deletedId };
    },
    async copy(source, destination) {
      const target = catalog.parseReference(destination);
      await catalog.tag(source, `${target.registry}/${target.repository}`, target.tag);
    },
    async show(name) {
      const { model, capabilities } = await models.show(name);
      return { model, capabilities };
    },
    configure: (name, patch) => models.configure(name, 'completion', patch),
    async unload(name) {
      const { unloadedRunners, unknown } = await models.unload({ names: [name] });
      // Ollama answers an unknown model with a 404 even when only unloading; one still loaded
      // under that name (deleted while serving) is not unknown.
      if (unknown.length > 0 && unloadedRunners === 0) throw new AppError('not_found', `model ${JSON.stringify(name)} not found`);
    },
    extras: (name) => catalog.creator.extras(name),
    hasBlob: (digest) => catalog.creator.hasBlob(digest),
    receiveBlob: (upload) => catalog.creator.receiveBlob(upload),
    create: (name, request, options) => catalog.creator.create(name, request, { onEvent: options.onEvent }),
    push: (name, options) => catalog.push(name, options),
  };
}
