// The one error of building an output file: `reason` completes "<file> could not be made: ...", a sentence the thread
// shows as is (the edge still escapes it for its markup).
import { RolecallError } from '../../errors';
import { displayName } from '../errors';

export class OutputBuildError extends RolecallError {
  constructor(readonly fileName: string, readonly reason: string, options?: ErrorOptions) {
    super(`${displayName(fileName)} could not be made: ${reason}`, options);
  }
}
