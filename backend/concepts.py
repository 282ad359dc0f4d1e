"""Plain-words explanations of the ideas behind each layer family, for people learning."""

from __future__ import annotations

KERAS_DOCS = "https://keras.io/api/layers/"
_DOC_SECTIONS = {
    "Core": "core_layers",
    "Convolution": "convolution_layers",
    "Pooling": "pooling_layers",
    "Recurrent": "recurrent_layers",
    "Attention": "attention_layers",
    "Normalization": "normalization_layers",
    "Regularization": "regularization_layers",
    "Reshaping": "reshaping_layers",
    "Merging": "merging_layers",
    "Activations": "activation_layers",
    "Preprocessing": "preprocessing_layers",
    "Augmentation": "preprocessing_layers/image_augmentation",
}

CONCEPTS: dict[str, str] = {
    "Core": (
        "A neuron computes a weighted sum of its inputs plus a bias, z = w·x + b, and passes z "
        "through an activation. A Dense layer is a row of such neurons, each seeing every "
        "input. Training repeats three steps for each batch: the forward pass computes the "
        "loss; backpropagation applies the chain rule backwards through the layers to get the "
        "gradient of the loss for every weight; the optimizer then moves each weight a small "
        "step against its gradient. The Input layer only says what one sample looks like."
    ),
    "Activations": (
        "Without a non-linear activation, stacked layers collapse into one linear map, however "
        "deep. ReLU, max(0, x), is the usual choice inside a network: cheap, and its gradient "
        "does not shrink for positive inputs (a unit stuck below zero is 'dead'). tanh squashes "
        "to -1..1 and is centred on zero; sigmoid squashes to 0..1 and suits a yes/no output. "
        "Both saturate: for large inputs their slope, and so the gradient, nearly vanishes. "
        "Softmax turns a vector of scores into class probabilities that sum to one."
    ),
    "Convolution": (
        "A convolution slides a small filter (say 3x3) over an image and computes the same "
        "weighted sum at every position, so it finds a pattern wherever it appears and needs "
        "far fewer weights than a Dense layer. Early filters tend to find edges; deeper ones "
        "combine them into textures and parts. `filters` is how many patterns a layer learns, "
        "`kernel_size` how large each one is."
    ),
    "Pooling": (
        "Pooling shrinks feature maps by summarising each small window (its maximum or its "
        "mean). The network becomes cheaper and less sensitive to small shifts of a feature. "
        "Global pooling keeps one number per feature map, a compact way into a classifier."
    ),
    "Recurrent": (
        "A recurrent layer reads a sequence one step at a time with the same weights, and "
        "carries a hidden state from step to step: its memory. A plain RNN forgets quickly, "
        "because the gradient shrinks (or explodes) over many steps; LSTM and GRU add gates, "
        "learned switches that decide what to store, keep and forget, so they can carry "
        "information across long spans. `return_sequences` returns every step's output (to "
        "stack another recurrent layer) instead of the last one only."
    ),
    "Attention": (
        "Attention lets each position of a sequence take a weighted mix of all positions: its "
        "query is compared with every key, a softmax turns the scores into weights that sum "
        "to one, and the weights mix the values. Multi-head attention does this several times "
        "in parallel, each head free to look for something else. Attention alone ignores "
        "order (shuffle the tokens and each gets the same mix), so a Transformer adds a "
        "positional encoding to each token's embedding: a learned vector per position, or sines "
        "and cosines. With a feed-forward layer, residual connections and normalisation, that "
        "is a Transformer encoder layer."
    ),
    "Normalization": (
        "Normalisation rescales activations to zero mean and unit variance, then applies a "
        "learned scale and shift. BatchNormalization does it per feature over the batch (CNNs; "
        "at test time it uses averages kept from training); LayerNormalization per sample over "
        "its features (Transformers, RNNs). Training becomes faster and less fragile."
    ),
    "Regularization": (
        "Regularisation fights overfitting: a network that fits the noise of its training data "
        "does worse on new data, and its validation loss rises while its training loss still "
        "falls. Dropout switches off a random fraction of its inputs at each training step (and "
        "scales up the rest), so no unit can rely on another; at test time it passes "
        "everything. Weight penalties and early stopping also regularise; more data helps most."
    ),
    "Reshaping": (
        "Reshaping layers change how the numbers of each sample are arranged without changing "
        "them: Flatten unrolls an image into a vector for a Dense layer, Reshape builds any "
        "shape with the same size, padding and cropping change borders."
    ),
    "Merging": (
        "Merging layers join branches. Concatenate puts tensors side by side (several inputs, "
        "Inception-style branches). Add sums same-shaped tensors; when one of them is a "
        "block's own input carried around the block (a skip connection), the sum is a residual "
        "connection: the block only learns a correction to its input, and the gradient has a "
        "direct path back, which lets very deep networks train. Multiply gates one tensor by "
        "another."
    ),
    "Preprocessing": (
        "Preprocessing layers run inside the model, so an exported model takes raw data: "
        "Rescaling maps pixels from 0..255 to 0..1, Normalization standardises features, "
        "StringLookup and TextVectorization turn words into ids by a vocabulary (from an Input "
        "of dtype string)."
    ),
    "Augmentation": (
        "Augmentation layers change each training image at random (flip, rotate, zoom, shift "
        "the contrast), so the network sees new variants every epoch and learns what does not "
        "matter to the label. They are active only while training; at inference they pass the "
        "image unchanged."
    ),
    "Blocks": (
        "A block is a small network used as one layer: a residual block, a Transformer "
        "encoder, an Inception module. Ctrl+Shift+G ungroups it into its layers."
    ),
    "Losses": (
        "The loss measures how wrong the predictions are; training minimises its average. "
        "Classification uses cross-entropy: binary for one sigmoid output, categorical for a "
        "softmax over classes (sparse when the labels are class numbers, not one-hot vectors). "
        "Regression uses mean squared error (punishes big errors most) or mean absolute error. "
        "The output activation must fit the loss, or the loss must be told it gets logits."
    ),
    "Optimizers": (
        "An optimizer turns gradients into weight updates. SGD steps against the gradient, "
        "scaled by the learning rate; momentum keeps a running direction that smooths the "
        "path. Adam scales each weight's step by running averages of its gradient and squared "
        "gradient: a robust default. The learning rate matters most: too high and the loss "
        "jumps or grows (diverges); too low and it crawls. A schedule lowers it as training "
        "goes on."
    ),
}


def concept(category: str) -> str:
    return CONCEPTS.get(category, "")


def docs_url(category: str) -> str:
    """The Keras documentation page of a layer family."""
    section = _DOC_SECTIONS.get(category)
    return f"{KERAS_DOCS}{section}/" if section else KERAS_DOCS
