/**
 * The list pages' loader (API keys, webhook endpoints): one row per item of a `GET` list response
 * (`{data: T[]}`), or the reason it failed, in the page's status line.
 */
import { apiJson, describeError } from "../api.ts";
import { replace } from "../dom.ts";

/**
 * Loads `GET path` and renders it into `list`.
 * @typeParam L the list response type of `path` (schema/api.ts)
 * @param state status line: `emptyText` when there is no item, the error's description on failure
 * @param row renders one item
 */
export async function loadList<L extends { data: unknown[] }>(
  path: string,
  list: Element,
  state: Element,
  row: (item: L["data"][number]) => Node,
  emptyText: string,
): Promise<void> {
  try {
    const { data } = await apiJson<L>("GET", path);
    replace(list, ...data.map(row));
    state.textContent = data.length ? "" : emptyText;
  } catch (err) {
    state.textContent = describeError(err);
  }
}
