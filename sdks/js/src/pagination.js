/**
 * Walks a `page`/`per_page`/`total` list: `for await (const item of iterator)` gives every
 * item; `iterator.byPage()` gives each answer as it came.
 *
 * Pages are fetched one at a time, only as they are consumed, until `total` items have been
 * seen or a page comes back empty (so a list that shrinks while it is walked still ends).
 */
export class PageIterator {
  /**
   * @param {(params: object) => Promise<{data: unknown[], total?: number, page?: number, per_page?: number}>} fetchPage
   * @param {object} [params] the list's filters, plus `page` to start from and `per_page`
   */
  constructor(fetchPage, params = {}) {
    this._fetchPage = fetchPage;
    this._params = { ...params };
  }

  async *byPage() {
    let page = this._params.page ?? 1;
    for (;;) {
      const body = await this._fetchPage({ ...this._params, page });
      const items = Array.isArray(body?.data) ? body.data : [];
      if (items.length === 0) return;
      yield body;
      const perPage = Number.isInteger(body.per_page) && body.per_page > 0 ? body.per_page : items.length;
      const current = Number.isInteger(body.page) && body.page > 0 ? body.page : page;
      if (Number.isInteger(body.total) && (current - 1) * perPage + items.length >= body.total) return;
      page = current + 1;
    }
  }

  async *[Symbol.asyncIterator]() {
    for await (const body of this.byPage()) yield* body.data;
  }

  /** Every item, in order, in one array. */
  async toArray() {
    const all = [];
    for await (const item of this) all.push(item);
    return all;
  }
}
