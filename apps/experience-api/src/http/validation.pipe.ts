import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

function describe(errors: readonly ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => (text.startsWith(error.property) ? `${field}${text.slice(error.property.length)}` : `${field}: ${text}`));
    return [...own, ...describe(error.children ?? [], field)];
  });
}

/** Validates bodies against their DTO and names every offending field in one 400 answer. */
export function apiValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new BadRequestException(describe(errors).join('; ')),
  });
}
