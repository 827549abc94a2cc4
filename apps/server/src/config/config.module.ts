import { DynamicModule, Global, Module } from '@nestjs/common';
import { ServerConfig } from './server-config';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: ServerConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: ServerConfig, useValue: config }], exports: [ServerConfig] };
  }
}
