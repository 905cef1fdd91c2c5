import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { join } from 'node:path';

/** Beside this file in the sources and, copied by nest build (nest-cli.json assets), in dist. */
const PUBLIC = join(__dirname, 'public');
const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

@ApiExcludeController()
@Controller()
export class WebController {
  @Get()
  @Header('Cache-Control', 'no-cache')
  page(@Res() response: Response): void {
    response.type('text/html; charset=utf-8').sendFile(join(PUBLIC, 'index.html'));
  }

  /** Only the page's own files: a fixed list, so no path from the URL reaches the disk. */
  @Get('page/:file')
  @Header('Cache-Control', 'no-cache')
  asset(@Param('file') file: string, @Res() response: Response): void {
    const type = ASSETS[file];
    if (!type) throw new NotFoundException(`No page asset ${file}`);
    response.type(type).sendFile(join(PUBLIC, file));
  }
}
