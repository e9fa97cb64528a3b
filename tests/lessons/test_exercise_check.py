"""Lesson 1's 45-minute exercise checks the learner's loop automatically: check_training_loop
(defined in the lesson, a hidden cell of its notebook) must pass a correct loop and name each of
the silent mistakes a learner makes."""

from __future__ import annotations

import pytest

from demos.course import load_course

torch = pytest.importorskip("torch")

LESSON = load_course().lesson("pytorch")
CHECKER = next(b for b in LESSON.code_blocks if "def check_training_loop" in b.code)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: one thread is faster than two fighting over a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def check_training_loop():
    namespace: dict = {}
    exec(compile(CHECKER.code, "checker", "exec"), namespace)
    return namespace["check_training_loop"]


def correct(model, x, y, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def zero_grad_last(model, x, y, loss_fn, optimizer):  # also right: cleared after the step
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def no_zero_grad(model, x, y, loss_fn, optimizer):
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_before_backward(model, x, y, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    optimizer.step()
    loss.backward()
    return loss.item()


def no_backward(model, x, y, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    optimizer.step()
    return loss.item()


def returns_tensor(model, x, y, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def swapped_arguments(model, x, y, loss_fn, optimizer):  # loss_fn(y, model(x)): wrong gradient
    optimizer.zero_grad()
    loss = loss_fn(y, model(x))
    loss.backward()
    optimizer.step()
    return loss.item()


def not_written(model, x, y, loss_fn, optimizer):
    raise NotImplementedError("write the five steps here")


@pytest.mark.parametrize("train_step", [correct, zero_grad_last])
def test_a_correct_loop_passes(check_training_loop, train_step, capsys):
    assert check_training_loop(train_step) is True
    assert "All checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("train_step", "message"),
    [
        (no_zero_grad, "the gradients piled up"),
        (step_before_backward, "nothing changed"),
        (no_backward, "nothing changed"),
        (returns_tensor, "return loss.item()"),
        (not_written, "train_step is not written yet"),
    ],
)
def test_each_mistake_is_named(check_training_loop, train_step, message, capsys):
    assert check_training_loop(train_step) is False
    out = capsys.readouterr().out
    assert message in out and "✗" in out and "All checks passed" not in out


def test_a_bug_inside_the_learners_code_is_reported_not_raised(check_training_loop, capsys):
    def crashes(model, x, y, loss_fn, optimizer):
        return loss_fn(model(x[:, :0]), y).item()  # a shape bug

    assert check_training_loop(crashes) is False
    assert "it raised RuntimeError" in capsys.readouterr().out


def test_swapped_loss_arguments_are_caught(check_training_loop, capsys):
    """loss_fn(y, model(x)): harmless for the symmetric MSE, an error for cross-entropy."""
    assert check_training_loop(swapped_arguments) is False
    assert "✗ trains a classifier" in capsys.readouterr().out


def test_the_exercise_and_its_solution_are_laid_out_for_the_learner():
    kinds = [b.kind for b in LESSON.code_blocks]
    assert kinds.count("exercise") == 1 and kinds.count("solution") == 2
    checker_index = kinds.index("solution")
    assert checker_index < kinds.index("exercise") < len(kinds) - 1 - kinds[::-1].index("solution")
    assert "<details>" in LESSON.body and "</details>" in LESSON.body
