import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface DatabaseStatus {
  readonly up: boolean;
  readonly message?: string;
}

/** Answers whether the database responds, within a deadline, without ever throwing. */
@Injectable()
export class DatabaseHealth {
  constructor(private readonly dataSource: DataSource) {}

  async check(timeoutMs = 2_000): Promise<DatabaseStatus> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.dataSource.query('SELECT 1'), deadline]);
      return { up: true };
    } catch (error) {
      return { up: false, message: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
