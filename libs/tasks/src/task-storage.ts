import { Injectable } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

/** Files tasks produce, under STORAGE_DIR (shared by API and worker). */
@Injectable()
export class TaskStorage {
  readonly root: string;

  constructor(config: AppConfig) {
    this.root = resolve(config.get('STORAGE_DIR'));
  }

  async directory(area: 'exports' | 'task-inputs'): Promise<string> {
    const path = join(this.root, area);
    await mkdir(path, { recursive: true });
    return path;
  }

  /** Resolves a stored relative path, refusing anything that would leave the storage root. */
  resolve(relativePath: string): string {
    const path = resolve(this.root, relativePath);
    if (!path.startsWith(this.root + '/'))
      throw new Error(`Refusing a path outside STORAGE_DIR: ${basename(relativePath)}`);
    return path;
  }
}
