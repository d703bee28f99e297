import type { ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** A class for the column's cells, e.g. `nowrap` for times and ids. */
  className?: string;
}

/**
 * The console's one list table: a captioned table in a box that scrolls sideways on its own on
 * phones (the page never does). Every list page uses it, so they look and read alike.
 */
export function ListTable<T>({
  caption,
  rows,
  columns,
  rowKey,
  captionVisible = false,
}: {
  /** Read by screen readers before the table; visually hidden unless `captionVisible`. */
  caption: string;
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  captionVisible?: boolean;
}) {
  return (
    <div className="table-wrap">
      <table className="list-table">
        <caption className={captionVisible ? 'table-caption' : 'visually-hidden'}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c.header}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((c) => (
                <td key={c.header} {...(c.className ? { className: c.className } : {})}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
