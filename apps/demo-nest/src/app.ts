import 'reflect-metadata';
import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import type { DemoConfig } from './config.js';

export interface DemoAppOptions extends DemoConfig {
  /** Nest's log levels, or false for none (the tests). */
  logger?: LogLevel[] | false;
}

/**
 * Builds the app; `listen()` (or `init()`) migrates, then starts the queue's worker, and
 * `close()` lets running jobs finish before it resolves.
 */
export async function createApp({
  logger = ['log', 'warn', 'error'],
  ...config
}: DemoAppOptions): Promise<INestApplication> {
  return NestFactory.create(AppModule.register(config), { logger, abortOnError: false });
}
