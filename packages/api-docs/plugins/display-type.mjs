// @ts-check
/**
 * A TypeDoc plugin for tables written as object literals (the rule tables, the test domains):
 * a variable whose comment has `@displayType T` is shown with the type T instead of its literal
 * type, and the literal's members (documented by T) are left out of the reference.
 */
import { Comment, Converter, ReflectionKind, ReflectionType, UnknownType } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of context.project.getReflectionsByKind(ReflectionKind.Variable)) {
      const variable = /** @type {import("typedoc").DeclarationReflection} */ (reflection);
      const tag = variable.comment?.getTag("@displayType");
      if (tag === undefined || variable.comment === undefined) continue;
      if (variable.type instanceof ReflectionType) context.project.removeReflection(variable.type.declaration);
      variable.type = new UnknownType(Comment.combineDisplayParts(tag.content).trim());
      variable.comment.removeTags("@displayType");
      variable.defaultValue = undefined; // the literal itself: the type says what it holds
    }
  });
}
