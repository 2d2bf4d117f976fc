/**
 * SQLite storage of the reference shortener, the way a first design usually
 * does it: one table, a unique index on the code and one on the target (the
 * second makes dedup a lookup), prepared statements, WAL journal. The caller
 * chooses `synchronous`: FULL syncs the WAL on every commit, NORMAL only at
 * checkpoints, which is what makes the two comparable to the product's
 * `flush` and `commit` durability.
 *
 * Codes are the row id in base62, so they are sequential and short. The next
 * id is kept in memory because this process is the only writer.
 */
import Database from 'better-sqlite3'
import { encodeBase62 } from './base62.ts'

export type Synchronous = 'FULL' | 'NORMAL'

export interface StoredLink {
  code: string
  url: string
  createdAt: number
}

export interface CreateResult {
  link: StoredLink
  created: boolean
}

export class ReferenceStore {
  readonly #db: Database.Database
  readonly #byCode: Database.Statement<[string], { url: string }>
  readonly #byUrl: Database.Statement<[string], { code: string, created_at: number }>
  readonly #insert: Database.Statement<[number, string, string, number]>
  readonly #createMany: (urls: readonly string[]) => CreateResult[]
  #nextId: number

  constructor (path: string, synchronous: Synchronous) {
    this.#db = new Database(path)
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma(`synchronous = ${synchronous}`)
    this.#db.exec(`CREATE TABLE IF NOT EXISTS links (
      id INTEGER PRIMARY KEY,
      code TEXT NOT NULL,
      url TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS links_code ON links (code);
    CREATE UNIQUE INDEX IF NOT EXISTS links_url ON links (url);`)

    this.#byCode = this.#db.prepare('SELECT url FROM links WHERE code = ?')
    this.#byUrl = this.#db.prepare('SELECT code, created_at FROM links WHERE url = ?')
    this.#insert = this.#db.prepare('INSERT INTO links (id, code, url, created_at) VALUES (?, ?, ?, ?)')
    this.#createMany = this.#db.transaction((urls: readonly string[]) => urls.map((url) => this.create(url)))

    const row = this.#db.prepare('SELECT max(id) AS maxId FROM links').get() as { maxId: number | null }
    this.#nextId = (row.maxId ?? 0) + 1
  }

  targetOf (code: string): string | undefined {
    return this.#byCode.get(code)?.url
  }

  /** Returns the existing link for `url`, or inserts one; each call outside `createMany` is its own transaction. */
  create (url: string): CreateResult {
    const existing = this.#byUrl.get(url)
    if (existing !== undefined) {
      return { link: { code: existing.code, url, createdAt: existing.created_at }, created: false }
    }

    const id = this.#nextId++
    const link = { code: encodeBase62(id), url, createdAt: Date.now() }
    this.#insert.run(id, link.code, url, link.createdAt)
    return { link, created: true }
  }

  /** Creates every URL in one transaction, so the batch costs one WAL sync. */
  createMany (urls: readonly string[]): CreateResult[] {
    return this.#createMany(urls)
  }

  countLinks (): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM links').get() as { n: number }).n
  }

  close (): void {
    this.#db.close()
  }
}
