/**
 * What the list pages (API keys, webhook endpoints) share: loading the list into its rows, the create
 * form's submit handling, and removing an item after confirmation.
 */
import { describeError } from "../api.ts";
import { announce, replace } from "../dom.ts";

/**
 * Loads a list and renders it into `list`.
 * @param load the list call, e.g. `GET /v1/api-keys`
 * @param state status line: `emptyText` when there is no item, the error's description on failure
 * @param row renders one item
 */
export async function loadList<T>(
  load: () => Promise<{ data: T[] }>,
  list: Element,
  state: Element,
  row: (item: T) => Node,
  emptyText: string,
): Promise<void> {
  try {
    const { data } = await load();
    replace(list, ...data.map(row));
    state.textContent = data.length ? "" : emptyText;
  } catch (err) {
    state.textContent = describeError(err);
  }
}

/** A form field's problem found before any request: the message to show and the field to focus. */
export class FieldProblem extends Error {
  constructor(
    message: string,
    readonly field: HTMLElement | undefined,
  ) {
    super(message);
  }
}

/**
 * Runs `action` on each submit of `form`, with `submit` disabled meanwhile. A {@link FieldProblem} it
 * throws shows in `error` and focuses its field; any other failure shows as one sentence in `error`.
 */
export function onSubmit(form: HTMLFormElement, submit: HTMLButtonElement, error: Element, action: () => Promise<void>): void {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      await action();
    } catch (err) {
      error.textContent = err instanceof FieldProblem ? err.message : describeError(err);
      if (err instanceof FieldProblem) err.field?.focus();
    } finally {
      submit.disabled = false;
    }
  });
}

/**
 * Asks `question`; on yes runs `remove`, announces `done` and reloads the list; a failure is alerted.
 */
export async function confirmRemove(question: string, remove: () => Promise<unknown>, done: string, reload: () => Promise<void>): Promise<void> {
  if (!confirm(question)) return;
  try {
    await remove();
    announce(done);
    await reload();
  } catch (err) {
    alert(describeError(err));
  }
}
