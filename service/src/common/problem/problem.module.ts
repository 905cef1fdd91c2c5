import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ProblemFilter } from './problem.filter';

/** Every error of every route answered as problem+json (and reported to PROBLEM_LISTENER). */
@Module({ providers: [{ provide: APP_FILTER, useClass: ProblemFilter }] })
export class ProblemModule {}
