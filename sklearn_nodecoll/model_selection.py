"""Cross-validation splitters for trajectory data.

Two ways of holding out data suit a neural ODE:

* Within one trajectory, later samples are held out and scored as a
  forecast. scikit-learn's :class:`~sklearn.model_selection.TimeSeriesSplit`
  does this as is, provided the rows are sorted by time:
  :meth:`CollocationNeuralODE.predict` integrates from the fitted initial
  state ``y0_`` at ``t0_`` through the training span (and any gap) to the
  held-out times.
* With several trajectories, whole trajectories are held out by
  :class:`TrajectorySplit`. A trajectory that was not seen in ``fit`` has no
  fitted initial state, so :meth:`CollocationNeuralODE.score` rolls it out
  from its first observed row. The row of ``y`` at its earliest time is the
  initial state, and that row is left out of the score.

Trajectory ids must reach ``fit`` and ``score`` inside a search. scikit-learn
passes them to ``score`` only through metadata routing, which is off by
default: call ``sklearn.set_config(enable_metadata_routing=True)``. The
estimator and :class:`TrajectorySplit` request ``trajectory`` by default, so
``GridSearchCV(...).fit(X, y, trajectory=ids)`` then routes the ids to the
splitter, to every ``fit`` and to every ``score``.
"""

import numpy as np
from sklearn.model_selection import GroupKFold
from sklearn.model_selection._split import BaseCrossValidator
from sklearn.utils.validation import _num_samples

__all__ = ["TrajectorySplit"]


class TrajectorySplit(BaseCrossValidator):
    """K-fold cross-validation that holds out whole trajectories.

    Each trajectory lands in the test set of exactly one fold, as with
    :class:`~sklearn.model_selection.GroupKFold` with the trajectory ids as
    groups. The ids come from ``trajectory`` or, equivalently, ``groups``.
    Under metadata routing the splitter requests both by default, so the
    ``trajectory`` passed to a search reaches it without further setup.

    Held-out trajectories are unseen by the fitted model, and
    :meth:`CollocationNeuralODE.score` rolls each of them out from the row
    at its earliest time.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2 and at most the number of trajectories.
    shuffle : bool, default=False
        Whether to shuffle the trajectories before assigning them to folds.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffle; used only when ``shuffle`` is True.

    See Also
    --------
    sklearn.model_selection.GroupKFold : The splitter this one delegates to.
    sklearn.model_selection.TimeSeriesSplit : Forecast folds within one trajectory.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nodecoll.model_selection import TrajectorySplit
    >>> t = np.tile(np.arange(4.0), 3)
    >>> ids = np.repeat(["a", "b", "c"], 4)
    >>> for train, test in TrajectorySplit(n_splits=3).split(t, trajectory=ids):
    ...     print("train:", " ".join(np.unique(ids[train])), " test:", " ".join(np.unique(ids[test])))
    train: a b  test: c
    train: a c  test: b
    train: b c  test: a
    """

    __metadata_request__split = {"groups": True, "trajectory": True}

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _trajectory_ids(self, X, groups, trajectory):
        if trajectory is None and groups is None:
            raise ValueError(
                "TrajectorySplit needs the trajectory id of each row: pass "
                "trajectory= (or groups=) to split, or to the search's fit."
            )
        if trajectory is not None and groups is not None:
            if not np.array_equal(np.asarray(trajectory), np.asarray(groups)):
                raise ValueError(
                    "trajectory and groups were both given and differ; pass the "
                    "trajectory ids once, as trajectory=."
                )
        ids = np.asarray(trajectory if trajectory is not None else groups)
        n_samples = _num_samples(X)
        if ids.shape != (n_samples,):
            raise ValueError(
                f"trajectory must have shape ({n_samples},), one id per row of X, "
                f"got shape {ids.shape}."
            )
        n_trajectories = np.unique(ids).size
        if self.n_splits > n_trajectories:
            raise ValueError(
                f"n_splits={self.n_splits} is greater than the number of "
                f"trajectories, {n_trajectories}; lower n_splits."
            )
        return ids

    def _iter_test_masks(self, X=None, y=None, groups=None):
        # split() is overridden; this abstract hook of BaseCrossValidator is
        # not used.
        raise NotImplementedError

    def split(self, X, y=None, groups=None, trajectory=None):
        """Generate train and test row indices, one pair per fold.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, n_features)
            Times, or times followed by inputs.
        y : array-like, default=None
            Ignored; present for API consistency.
        groups : array-like of shape (n_samples,), default=None
            Trajectory id of each row, if ``trajectory`` is not given.
        trajectory : array-like of shape (n_samples,), default=None
            Trajectory id of each row.

        Yields
        ------
        train : ndarray
            Indices of the rows of the training trajectories.
        test : ndarray
            Indices of the rows of the held-out trajectories.
        """
        ids = self._trajectory_ids(X, groups, trajectory)
        folds = GroupKFold(
            n_splits=self.n_splits, shuffle=self.shuffle, random_state=self.random_state
        )
        yield from folds.split(np.zeros((ids.size, 1)), groups=ids)

    def get_n_splits(self, X=None, y=None, groups=None, trajectory=None):
        """Return the number of folds, ``n_splits``.

        Parameters
        ----------
        X, y, groups, trajectory : object
            Ignored; present for API consistency.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits
